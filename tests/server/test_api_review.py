"""Review and datasets over the API on both backends: a queue from a runs filter (and a seeded
sample), next / label / skip, labels giving feedback and outcomes, a run added to a stored
suite; bad input is a 4xx naming the request part (unknown keys with the nearest spelling)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore
from run_summary_data import record_runs

SCHEMA = {
    "labels": [{"name": "correct", "pass": True}, {"name": "wrong", "pass": False},
               {"name": "unclear"}],
    "scores": [{"name": "helpfulness", "min": 1, "max": 5}],
}  # fmt: skip


@pytest.fixture
def ids(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    return record_runs(store, tmp_path)


def test_a_queue_is_walked_and_labelled_and_labels_set_outcomes(
    client: TestClient, keys: Keys, ids: dict[str, str], store: SqlStore
) -> None:
    h = keys.header("read")
    made = client.post("/api/v1/queues", json={"name": "triage", "schema": SCHEMA}, headers=h)
    assert made.status_code == 201, made.text
    q = made.json()
    assert q["total"] == q["pending"] == 4 and q["labels"] == ["correct", "wrong", "unclear"]
    seen = []
    nxt = client.get("/api/v1/queues/triage/next", headers=h).json()
    first = nxt["item"]["run_id"]
    assert nxt["item"]["position"] == 1 and nxt["run"]["trace_id"] == first
    skip = client.post("/api/v1/queues/triage/skip", json={"run_id": first}, headers=h)
    assert skip.status_code == 200
    seen.append(first)
    while (item := client.get("/api/v1/queues/triage/next", headers=h).json()["item"]) is not None:
        tid = item["run_id"]
        assert tid not in seen
        seen.append(tid)
        label = "wrong" if tid == ids["denied"] else "correct"
        resp = client.post(
            "/api/v1/queues/triage/labels",
            json={"run_id": tid[:12], "label": label, "scores": {"helpfulness": 4}},
            headers=h,
        )
        assert resp.status_code == 201, resp.text
    assert sorted(seen) == sorted(ids.values())
    got = client.get(f"/api/v1/queues/{q['id'][:8]}", headers=h).json()
    assert (got["pending"], got["labelled"], got["skipped"]) == (0, 3, 1)
    # the label of a run without an outcome set it (feedback by the key's actor)
    denied = store.get_run(ids["denied"])
    assert denied is not None and str(denied.outcome) == "failure"
    fb = store.list_feedback(ids["denied"])
    assert [(f.label, f.score, f.by) for f in fb] == [("wrong", 0.0, "read-key")]
    # an outcome already known stands (the agent's own failure of tool_err)
    tool_err = store.get_run(ids["tool_err"])
    assert tool_err is not None and str(tool_err.outcome) == "failure"
    assert [e.action for e in store.audit_entries()].count("run.label") == 3


def test_a_sampled_queue_is_deterministic_and_filtered(
    client: TestClient, keys: Keys, ids: dict[str, str]
) -> None:
    h = keys.header("read")
    body = {"schema": SCHEMA, "filter": {"status": "ok"}, "sample": 0.5, "seed": 7}
    a = client.post("/api/v1/queues", json={"name": "a", **body}, headers=h).json()
    b = client.post("/api/v1/queues", json={"name": "b", **body}, headers=h).json()
    items_a = client.get(f"/api/v1/queues/{a['id']}", headers=h).json()["items"]
    items_b = client.get(f"/api/v1/queues/{b['id']}", headers=h).json()["items"]
    assert [i["run_id"] for i in items_a] == [i["run_id"] for i in items_b]
    assert ids["raised"] not in {i["run_id"] for i in items_a}  # status=error filtered out
    full = client.post(
        "/api/v1/queues", json={"name": "c", "schema": SCHEMA, "filter": {"status": "ok"}},
        headers=h,
    ).json()  # fmt: skip
    assert a["total"] <= full["total"]


def test_bad_review_input_is_a_4xx_naming_the_part(
    client: TestClient, keys: Keys, ids: dict[str, str], store: SqlStore
) -> None:
    h = keys.header("read")
    bad_schema = {"labels": [{"name": "ok", "pas": True}]}
    r = client.post("/api/v1/queues", json={"name": "x", "schema": bad_schema}, headers=h)
    assert r.status_code == 400
    assert r.json()["error"] == ("body.schema: labels[0].pas: unknown key; did you mean 'pass'?")
    r = client.post(
        "/api/v1/queues", json={"name": "x", "schema": SCHEMA, "filter": {"agnet": "bot"}},
        headers=h,
    )  # fmt: skip
    assert (
        r.status_code == 400 and "body.filter.agnet: unknown filter; did you mean 'agent'" in r.text
    )
    yaml_text = "labels:\n  - {name: ok, pass: true}\n"
    r = client.post("/api/v1/queues", json={"name": "y", "schema": yaml_text}, headers=h)
    assert r.status_code == 201
    dup = client.post("/api/v1/queues", json={"name": "y", "schema": yaml_text}, headers=h)
    assert dup.status_code == 409
    r = client.post(
        "/api/v1/queues/y/labels", json={"run_id": ids["clean"], "label": "okk"}, headers=h
    )
    assert r.status_code == 400 and "body.label: unknown label 'okk'; did you mean 'ok'?" in r.text
    r = client.post(
        "/api/v1/queues/y/labels",
        json={"run_id": ids["clean"], "label": "ok", "scores": {"helpful": 3}}, headers=h,
    )  # fmt: skip
    assert r.status_code == 400 and "body.scores.helpful: unknown score" in r.text
    assert client.get("/api/v1/queues/nope/next", headers=h).status_code == 404
    assert store.list_annotations() == []  # nothing stored by the refused requests
    assert client.post("/api/v1/queues", json={"name": "z", "schema": SCHEMA}).status_code == 401


def test_a_run_is_added_to_a_stored_suite(
    client: TestClient, keys: Keys, ids: dict[str, str], store: SqlStore
) -> None:
    h = keys.header("read")
    ok = client.post("/api/v1/suites/prod/cases", json={"run_id": ids["clean"]}, headers=h)
    assert ok.status_code == 201, ok.text
    case = ok.json()["case"]
    assert case["input"] == "where is my order?"
    assert case["expect"]["calls"] == [
        {"tool": "lookup_order", "args": {"order_id": {"equals": "A-1"}}}
    ]
    assert case["fixtures"][0]["tool"] == "lookup_order"
    refused = client.post("/api/v1/suites/prod/cases", json={"run_id": ids["denied"]}, headers=h)
    assert refused.status_code == 400 and "body.expect: run" in refused.json()["error"]
    typed = client.post(
        "/api/v1/suites/prod/cases",
        json={"run_id": ids["denied"], "expect": {"not_called": ["issue_refund"]}},
        headers=h,
    )
    assert typed.status_code == 201
    bad = client.post(
        "/api/v1/suites/prod/cases",
        json={"run_id": ids["raised"], "expect": {"max_step": 3}}, headers=h,
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json()["error"].startswith("body.expect")
    suite = client.get("/api/v1/suites/prod", headers=h).json()
    assert [c["id"] for c in suite["cases"]] == [case["id"], typed.json()["case"]["id"]]
    assert client.get("/api/v1/suites", headers=h).json() == [{"suite": "prod", "cases": 2}]
    assert client.get("/api/v1/suites/none", headers=h).status_code == 400
