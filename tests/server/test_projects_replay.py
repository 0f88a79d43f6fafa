"""Running a replay on a server of two projects: ``POST /api/v1/replays`` replays only a run
of the request's project, with an agent of that project, and the replayed run lands in that
project (another project's run or agent is not found, 404)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import Keys, make_keys

from agentdeck.core.trace.model import Run, Span
from agentdeck.registry.keys import create_key
from agentdeck.registry.projects import create_project
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore

TRACING = Path(__file__).resolve().parents[1] / "tracing"


class _InProject:
    """A sink stamping the recorded runs with a project (as ingest by that project's key)."""

    def __init__(self, store: SqlStore, project: str) -> None:
        self.store, self.project = store, project

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.store.write_batch([replace(r, project=self.project) for r in runs], spans)


def test_a_replay_is_of_the_projects_run_and_agent_and_lands_in_it(
    sqlite_store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TRACING))
    monkeypatch.chdir(TRACING)  # the server imports entrypoints from its working directory
    from replay_support import V1, V2, record

    from agentdeck.server.app import create_app
    from agentdeck.tracing.sdk import api as sdk

    store = sqlite_store
    keys: Keys = make_keys(store)
    create_project(store, "team-b", "test")
    b = {
        "Authorization": "Bearer "
        + create_key(store, "b", ["read", "deploy"], "t", project="team-b").token
    }
    reg = Registry(store)
    reg.register_agent(V1, project="team-b")
    reg.register_agent(V2, project="team-b")
    reg.register_agent(replace(V1, name="other-bot"))  # the default project's
    sdk.init(sink=_InProject(store, "team-b"), resolver=CachingResolver(reg),
             spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    try:
        b_run = record(reg.resolve("shop-bot@1"), "refund ORD-1 20")
    finally:
        sdk.shutdown(10)
    assert store.run_projects([b_run]) == {b_run: "team-b"}
    with TestClient(create_app(store)) as client:
        a = keys.header("deploy")
        for run_id in (b_run, b_run[:8]):
            r = client.post("/api/v1/replays", json={"run_id": run_id}, headers=a)
            assert r.status_code == 404 and "no run with that id" in r.json()["error"], r.text
        other = client.post("/api/v1/replays", json={"run_id": b_run, "with": "other-bot@1"},
                            headers=b)  # fmt: skip
        assert other.status_code == 404, other.text
        r = client.post("/api/v1/replays", json={"run_id": b_run[:8]}, headers=b)
        assert r.status_code == 200 and r.json()["reproduced"], r.text
        replayed = r.json()["replay_trace_id"]
        assert store.run_projects([replayed]) == {replayed: "team-b"}
        w = client.post("/api/v1/replays", json={"run_id": b_run, "with": "shop-bot@2"},
                        headers=b)  # fmt: skip
        assert w.status_code == 200 and w.json()["candidate_agent"] == "shop-bot@2"
        candidate = w.json()["replay_trace_id"]
        assert store.run_projects([candidate]) == {candidate: "team-b"}
        mine = client.get("/api/v1/replays", params={"run": b_run}, headers=b).json()
        assert [x["kind"] for x in mine] == ["with", "reproduce"]
