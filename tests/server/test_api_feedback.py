"""``POST/GET /api/v1/runs/{id}/feedback`` on both backends: people and programs, who and when,
the outcome set when unknown, 4xx naming the request part, agent-bound keys kept to their
agents."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore
from run_summary_data import record_runs


@pytest.fixture
def ids(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    return record_runs(store, tmp_path)


def test_feedback_from_a_program_and_a_person_sets_the_unknown_outcome(
    client: TestClient, keys: Keys, ids: dict[str, str], store: SqlStore
) -> None:
    denied = ids["denied"]
    resp = client.post(
        f"/api/v1/runs/{denied[:12]}/feedback",
        json={"score": 0.1, "comment": "judge: refund not made", "source": "program"},
        headers=keys.header("ingest"),
    )
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert (body["by"], body["source"], body["outcome_set"]) == ("ingest-key", "program", True)
    resp = client.post(
        f"/api/v1/runs/{denied}/feedback",
        json={"label": "thumbs_up", "by": "ada"},
        headers=keys.header("read"),
    )
    assert resp.status_code == 201 and resp.json()["outcome_set"] is False
    listed = client.get(f"/api/v1/runs/{denied}/feedback", headers=keys.header("read")).json()
    assert [(f["by"], f["source"], f["score"], f["label"]) for f in listed] == [
        ("ingest-key", "program", 0.1, None),
        ("ada", "human", None, "thumbs_up"),
    ]
    assert all(f["created_at"] for f in listed)
    run = client.get(f"/api/v1/runs/{denied}", headers=keys.header("read")).json()["run"]
    assert (run["outcome"], run["outcome_reason"]) == ("failure", "feedback by ingest-key")
    audit = [e for e in store.audit_entries() if e.action == "run.feedback"]
    assert [e.actor for e in audit] == ["ingest-key", "read-key"]


def test_bad_feedback_is_a_4xx_naming_the_part(
    client: TestClient, keys: Keys, ids: dict[str, str], store: SqlStore
) -> None:
    url = f"/api/v1/runs/{ids['clean']}/feedback"
    empty = client.post(url, json={}, headers=keys.header("read"))
    assert empty.status_code == 400 and "body.score: give a score or a label" in empty.text
    wrong = client.post(url, json={"score": "high"}, headers=keys.header("read"))
    assert wrong.status_code == 422 and "score" in wrong.text
    extra = client.post(url, json={"score": 1, "rating": 5}, headers=keys.header("read"))
    assert extra.status_code == 422 and "rating" in extra.text
    missing = client.post(
        "/api/v1/runs/" + "f" * 32 + "/feedback", json={"score": 1}, headers=keys.header("read")
    )
    assert 400 <= missing.status_code < 500
    assert client.post(url, json={"score": 1}).status_code == 401
    assert client.post(url, json={"score": 1}, headers=keys.header("deploy")).status_code == 403
    bound = create_key(store, "other-bot-key", ["ingest"], "test", agents=["other-*"]).token
    refused = client.post(url, json={"score": 1}, headers={"Authorization": f"Bearer {bound}"})
    assert refused.status_code == 403
    assert store.list_feedback(ids["clean"]) == []
