"""Canaries through the server (real uvicorn, SQLite and PostgreSQL): started over the API,
the resolve endpoint splitting ``name@ENV`` (the split itself, or a session's arm), the SDK
resolving through HTTP recording each run's arm, an OTLP-reported run carrying its arm in
span attributes, the canary judged and aborted over the API; bad input refused with 4xx."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Keys, make_keys

import agentdeck
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from app_thread import serve_in_thread
from canary_support import scripted_turn, spec
from conversation_support import otlp_request


@pytest.fixture
def live(store: SqlStore) -> Iterator[tuple[str, Keys, SqlStore]]:
    reg = Registry(store)
    reg.register_agent(spec("v1"), "test")
    reg.register_agent(spec("v2"), "test")
    Deployments(store, reg, gates=[]).promote("bot@1", "production", "test")
    keys = make_keys(store)
    url, stop = serve_in_thread(create_app(store, gates=[]))
    yield url, keys, store
    sdk.shutdown(timeout=5)
    stop()


def test_a_canary_started_over_the_api_splits_http_resolved_runs_by_session(
    live: tuple[str, Keys, SqlStore], tmp_path: Path
) -> None:
    url, keys, store = live
    r = httpx.post(f"{url}/api/v1/canaries", headers=keys.header("deploy"),
                   json={"ref": "bot@2", "env": "production", "share": 30})  # fmt: skip
    assert r.status_code == 200, r.text
    canary = r.json()
    assert canary["state"] == "running" and canary["share"] == 30.0
    assert canary["candidate"]["version"] == 2 and canary["stable"]["version"] == 1

    plain = httpx.get(f"{url}/api/v1/resolve", params={"ref": "bot@production"},
                      headers=keys.header("read")).json()  # fmt: skip
    assert plain["version"] == 1 and plain["canary"]["share"] == 30.0
    assert plain["canary"]["candidate"]["deployment_id"] == canary["id"]
    arms = {}
    for s in ("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8"):
        got = httpx.get(f"{url}/api/v1/resolve", headers=keys.header("read"),
                        params={"ref": "bot@production", "session_id": s}).json()  # fmt: skip
        again = httpx.get(f"{url}/api/v1/resolve", headers=keys.header("read"),
                          params={"ref": "bot@production", "session_id": s}).json()  # fmt: skip
        assert got["arm"] == again["arm"] and "canary" not in got
        arms[s] = (got["arm"], got["version"], got["deployment_id"])
    for arm, version, dep in arms.values():
        assert (version, dep == canary["id"]) == ((2, True) if arm == "candidate" else (1, False))

    # the SDK sending to the server: resolution through HTTP, runs stamped with their arm
    agentdeck.init(endpoint=url, api_key=keys["admin"],
                   spill_dir=tmp_path / "spill", schedule_delay=0.02, enforce_policies=False,
                   resolve_timeout_s=30)  # fmt: skip
    ids = []
    for i in range(40):
        with sdk.run("bot@production", input={"i": i}, session_id=f"sess-{i}") as run:
            scripted_turn(f"A-{i}")
            ids.append(run.trace_id)
    assert sdk.flush(10)
    sdk.shutdown(timeout=5)
    seen = {}
    for tid in ids:
        for _ in range(100):
            got = store.get_run(tid)
            if got is not None:
                break
            time.sleep(0.05)
        assert got is not None
        seen[tid] = (got.canary_arm, got.agent_version, got.deployment_id == canary["id"])
    assert {v for v in seen.values()} == {("candidate", 2, True), ("stable", 1, False)}
    spans = store.get_spans(ids[0])
    root = next(s for s in spans if s.parent_id is None)
    assert root.attributes["agentdeck.canary.arm"] in ("stable", "candidate")

    status = httpx.get(f"{url}/api/v1/canaries/bot", params={"env": "production"},
                       headers=keys.header("read")).json()  # fmt: skip
    j = status["judgement"]
    assert j["candidate_runs"] + j["stable_runs"] == 40
    assert {m["metric"] for m in j["metrics"]} >= {"outcome", "tool_error", "latency"}
    assert j["decision"] == "hold"

    second = httpx.post(f"{url}/api/v1/canaries", headers=keys.header("deploy"),
                        json={"ref": "bot@2", "env": "production", "share": 10})  # fmt: skip
    assert second.status_code == 409
    aborted = httpx.post(f"{url}/api/v1/canaries/bot/abort", headers=keys.header("deploy"),
                         json={"env": "production", "reason": "enough"})  # fmt: skip
    assert aborted.status_code == 200 and aborted.json()["state"] == "aborted"
    after = httpx.get(f"{url}/api/v1/resolve", params={"ref": "bot@production"},
                      headers=keys.header("read")).json()  # fmt: skip
    assert "canary" not in after


def test_an_otlp_reported_run_carries_its_arm_in_span_attributes(
    live: tuple[str, Keys, SqlStore],
) -> None:
    url, keys, store = live
    trace = "7b8efff798038103d269b633813fc60c"
    t0 = 1_767_000_000_000_000_000
    root = {"id": "aee19b7ec3c1b174", "name": "invoke_agent bot", "start": t0, "end": t0 + 10**9,
            "attrs": {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "bot",
                      "agentdeck.deployment.id": "c" * 32, "agentdeck.canary.arm": "candidate",
                      "agentdeck.canary.share": 10}}  # fmt: skip
    r = httpx.post(f"{url}/v1/traces", json=otlp_request(trace, [root]),
                   headers=keys.header("ingest"))  # fmt: skip
    assert r.status_code == 200, r.text
    for _ in range(100):
        run = store.get_run(trace)
        if run is not None:
            break
        time.sleep(0.05)
    assert run is not None
    assert run.canary_arm == "candidate" and run.deployment_id == "c" * 32
    assert run.attributes.get("agentdeck.canary.share") == 10


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"ref": "bot@2", "env": "production", "share": 150}, 422),
        ({"ref": "bot@2", "env": "nowhere", "share": 10}, 400),
        ({"ref": "bot@9", "env": "production", "share": 10}, 404),
        ({"ref": "bot@1", "env": "production", "share": 10}, 400),
    ],
)
def test_bad_canary_requests_are_refused_and_change_nothing(
    live: tuple[str, Keys, SqlStore], body: dict[str, object], status: int
) -> None:
    url, keys, store = live
    r = httpx.post(f"{url}/api/v1/canaries", headers=keys.header("deploy"), json=body)
    assert r.status_code == status, r.text
    assert store.active_canaries() == []
    missing = httpx.post(f"{url}/api/v1/canaries/bot/pause", headers=keys.header("deploy"),
                         json={"env": "production"})  # fmt: skip
    assert missing.status_code in (400, 404)
