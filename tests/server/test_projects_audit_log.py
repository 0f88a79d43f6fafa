"""The audit log by project (SQLite and PostgreSQL): each project's keys read the entries about
its own records (its keys, agents, deployments, runs' feedback) and the server-wide ones (the
promotion path), never another project's; an all-projects key reads the project it chose; an
entry moved to another project's log in the database is found by verify."""

from __future__ import annotations

from typing import Any

import test_projects
from fastapi.testclient import TestClient
from sqlalchemy import update
from test_projects import Two

from agentdeck.store import SqlStore
from agentdeck.store.tables import audit_log

two = test_projects.two  # the fixture: projects default (A) and team-b (B)


def _log(client: TestClient, header: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/v1/audit/log", params={"limit": 1000, **params}, headers=header)
    assert r.status_code == 200, r.text
    return list(r.json())


def _act_in_both(client: TestClient, two: Two) -> None:
    """Records of both projects, and one server-wide change."""
    for header, ref in ((two.a.header("deploy"), "alpha@1"), (two.b["deploy"], "beta@1")):
        r = client.post("/api/v1/deployments/promote", json={"ref": ref, "env": "dev"},
                        headers=header)  # fmt: skip
        assert r.status_code == 200, r.text
    for header, run in ((two.a.header("ingest"), two.a_run), (two.b["ingest"], two.b_run)):
        r = client.post(f"/api/v1/runs/{run}/feedback", json={"score": 1}, headers=header)
        assert r.status_code in (200, 201), r.text
    assert client.delete("/api/v1/keys/b-ingest", headers=two.b["admin"]).status_code == 200
    path = client.get("/api/v1/envs", headers=two.a.header("read")).json()
    envs = [e["env"] for e in path]
    r = client.put("/api/v1/envs/path", json={"envs": envs}, headers=two.a.header("admin"))
    assert r.status_code == 200, r.text


def test_each_project_reads_its_entries_and_the_server_wide_ones(
    client: TestClient, two: Two
) -> None:
    _act_in_both(client, two)
    b = _log(client, two.b["read"])
    assert {e["project"] for e in b} == {"team-b", "*"}
    assert {(e["action"], e["subject"]) for e in b} >= {
        ("project.create", "team-b"), ("key.create", "b-read"), ("agent.register", "beta"),
        ("deployment.deploy", "beta@dev"), ("run.feedback", two.b_run),
        ("key.revoke", "b-ingest"), ("env.path", "environments"),
    }  # fmt: skip
    assert not [e for e in b if "alpha" in str(e) or two.a_run in str(e)]
    a = _log(client, two.a.header("read"))
    assert {e["project"] for e in a} == {"default", "*"}
    assert {("agent.register", "alpha"), ("deployment.deploy", "alpha@dev"),
            ("run.feedback", two.a_run), ("env.path", "environments")} <= {
        (e["action"], e["subject"]) for e in a}  # fmt: skip
    assert not [e for e in a if "beta" in str(e) or "team-b" in str(e)]
    chosen = _log(client, {**two.root, "X-Agentdeck-Project": "team-b"})
    assert chosen == b
    newest = _log(client, two.b["read"], limit=2)
    assert newest == b[-2:] and newest[0]["seq"] < newest[1]["seq"]
    assert [e["payload"].get("project") for e in b if e["project"] == "team-b"] == [
        "team-b" for e in b if e["project"] == "team-b"
    ]  # the project is hashed in the payload
    bad = client.get("/api/v1/audit/log", params={"limit": 0}, headers=two.b["read"])
    assert bad.status_code == 422 and "limit" in bad.text


def test_an_entry_moved_to_another_projects_log_is_found(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    assert client.get("/api/v1/audit/verify", headers=two.a.header("read")).json()["ok"] is True
    moved = next(e for e in _log(client, two.b["read"]) if e["action"] == "agent.register")
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == moved["seq"]).values(
            project="default"))  # fmt: skip
    assert moved not in _log(client, two.b["read"])
    report = client.get("/api/v1/audit/verify", headers=two.a.header("read")).json()
    assert report["ok"] is False
    assert report["problems"] == [{
        "seq": moved["seq"],
        "problem": "listed in project 'default' but its hashed payload names 'team-b' "
        "(entry moved between projects)",
    }]  # fmt: skip
