"""Erasure on a server of two projects (SQLite and PostgreSQL): ``DELETE /api/v1/runs`` and
``agentdeck runs delete`` delete only the request's project's runs, by id, session, user or
query; another project's run id is not found; the audit entry names the project."""

from __future__ import annotations

from dataclasses import replace

import test_projects
from demo_data import demo_run
from fastapi.testclient import TestClient
from test_projects import StoreCli, Two

from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_bytes

two = test_projects.two  # the fixture: projects default (A) and team-b (B)
store_cli = test_projects.store_cli


def _ingest_for(client: TestClient, header: dict[str, str], agent: str) -> str:
    run, spans = demo_run(agent=agent)
    run = replace(run, user_id="alice", session_id="s-1")
    r = client.post("/api/v1/ingest", content=batch_to_bytes([run], spans), headers=header)
    assert r.status_code == 202, r.text
    return run.trace_id


def test_erasure_deletes_only_the_projects_runs(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    a_alice = _ingest_for(client, two.a.header("ingest"), "alpha")
    b_alice = _ingest_for(client, two.b["ingest"], "beta")
    b = two.b["admin"]
    for run_id in (two.a_run, two.a_run[:8]):
        r = client.delete("/api/v1/runs", params={"run_id": run_id}, headers=b)
        assert r.status_code == 404 and "no such run" in r.json()["error"], r.text
    for params in ({"q": "agent:alpha"}, {"q": "refund"}, {"user_id": "alice"},
                   {"session_id": "s-1"}):  # fmt: skip
        counted = client.delete("/api/v1/runs", params={**params, "dry_run": "true"}, headers=b)
        assert counted.json()["runs"] == (0 if params == {"q": "agent:alpha"} else
                                          (2 if params == {"q": "refund"} else 1)), params  # fmt: skip
    gone = client.delete("/api/v1/runs", params={"user_id": "alice"}, headers=b)
    assert gone.status_code == 200 and gone.json()["runs"] == 1
    assert store.get_run(b_alice) is None and store.get_run(a_alice) is not None
    entry = store.audit_entries(action_prefix="runs.delete")[-1]
    assert entry.payload["project"] == "team-b" and entry.payload["runs"] == 1
    # the default project's admin deletes its own runs, as before projects
    a = client.delete("/api/v1/runs", params={"user_id": "alice"}, headers=two.a.header("admin"))
    assert a.json()["runs"] == 1 and store.get_run(a_alice) is None
    last = store.audit_entries(action_prefix="runs.delete")[-1]
    assert last.project == "default" and "project" not in last.payload  # hashed as before projects
    assert store.get_run(two.b_run) is not None and store.get_run(two.a_run) is not None
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    left = client.delete("/api/v1/runs", params={"q": "refund"}, headers=in_b)
    assert left.json()["runs"] == 1 and store.get_run(two.a_run) is not None
    assert store.get_run(two.b_run) is None


def test_runs_delete_takes_a_project(
    client: TestClient,
    two: Two,
    store: SqlStore,
    store_cli: StoreCli,
) -> None:
    cli = store_cli
    code, _, err = cli("runs", "delete", "--run", two.b_run[:8], "--yes")
    assert code != 0 and "no such run" in err
    code, out, _ = cli("runs", "delete", "-q", "refund", "--dry-run", "--json")
    assert code == 0 and '"runs": 1' in out
    code, _, err = cli("runs", "delete", "--run", two.a_run, "--project", "team-b", "--yes")
    assert code != 0 and "no such run" in err
    code, _, _ = cli("runs", "delete", "-q", "refund", "--project", "team-b", "--yes", "--json")
    assert code == 0
    assert store.get_run(two.b_run) is None and store.get_run(two.a_run) is not None
    assert store.audit_entries(action_prefix="runs.delete")[-1].payload["project"] == "team-b"
    code, _, err = cli("runs", "delete", "-q", "refund", "--project", "nope", "--yes")
    assert code == 2 and "--project" in err
