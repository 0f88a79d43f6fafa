"""The server-wide routes on a server of two projects: ``GET /metrics`` is read only with a key
of the default project or an all-projects key (403 naming why otherwise); verifying the audit
chain answers every key, but a problem's text (it can name another project's deployment) only
to those keys."""

from __future__ import annotations

import test_projects
from fastapi.testclient import TestClient
from sqlalchemy import update
from test_projects import Two

from agentdeck.store import SqlStore
from agentdeck.store.tables import audit_log

two = test_projects.two  # the fixture: projects default (A) and team-b (B)


def test_metrics_are_read_by_the_default_projects_or_all_projects_keys(
    client: TestClient, two: Two
) -> None:
    assert client.get("/metrics", headers=two.a.header("read")).status_code == 200
    assert client.get("/metrics", headers=two.root).status_code == 200
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    assert client.get("/metrics", headers=in_b).status_code == 200
    r = client.get("/metrics", headers=two.b["read"])
    assert r.status_code == 403
    assert r.json()["error"] == (
        "GET /metrics is server-wide (every project's agents): only a key of the default "
        "project or an all-projects key reads it (API key 'b-read' is of project 'team-b')"
    )


def test_verifying_the_chain_tells_another_project_only_where_it_breaks(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    ok = client.get("/api/v1/audit/verify", headers=two.b["read"])
    assert ok.status_code == 200 and ok.json()["ok"] is True
    with store.engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(subject="edited"))
    a = client.get("/api/v1/audit/verify", headers=two.a.header("read")).json()
    b = client.get("/api/v1/audit/verify", headers=two.b["read"]).json()
    assert a["ok"] is False and b["ok"] is False and a["entries"] == b["entries"]
    assert [p["seq"] for p in a["problems"]] == [p["seq"] for p in b["problems"]]
    assert "entry modified" in a["problems"][0]["problem"]
    assert {p["problem"] for p in b["problems"]} == {
        "the chain breaks here (the default project's admins see why: agentdeck audit verify)"
    }
