"""Policies (versions for the SDK's HttpPolicySource, eval, tests, coverage, approvals), eval
results and online scores, and replay reports over the API, on both backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.model import SpanKind
from agentdeck.evals.online import Completion, OnlineEvaluation
from agentdeck.policy.enforcer import HttpPolicySource
from agentdeck.store import SqlStore
from foundation import spec_dict

POLICY = {
    "name": "refunds",
    "default_effect": "allow",
    "rules": [
        {"id": "big", "when": 'tool.name == "lookup" && args.order_id == "BIG"', "effect": "deny",
         "message": "no big orders"},
    ],
    "tests": [
        {"name": "small ok", "call": {"tool": "lookup", "args": {"order_id": "A1"}},
         "expect": "allow"},
        {"name": "big denied", "call": {"tool": "lookup", "args": {"order_id": "BIG"}},
         "expect": "deny"},
    ],
}  # fmt: skip


def _setup(client: TestClient, keys: Keys, pin: bool = True) -> None:
    deploy = keys.header("deploy")
    assert client.post("/api/v1/policies", json={"policy": POLICY}, headers=deploy).is_success
    spec = spec_dict(policy="refunds@1") if pin else spec_dict()
    assert client.post("/api/v1/agents", json={"spec": spec}, headers=deploy).is_success


def test_policy_version_route_serves_the_sdks_http_policy_source(
    client: TestClient, keys: Keys
) -> None:
    _setup(client, keys)
    shown = client.get("/api/v1/policies/refunds/1", headers=keys.header("read")).json()
    assert shown == client.get("/api/v1/policies/refunds@1", headers=keys.header("read")).json()
    assert shown["policy"]["rules"][0]["id"] == "big"
    versions = client.get("/api/v1/policies/refunds/versions", headers=keys.header("read"))
    assert [v["version"] for v in versions.json()] == [1]  # the literal route still wins
    transport = httpx.MockTransport(
        lambda req: httpx.Response(
            (r := client.get(req.url.path, headers=dict(req.headers))).status_code,
            content=r.content,
        )
    )
    source = HttpPolicySource("http://server", keys["read"], transport=transport)
    assert source.get_policy("refunds@1").digest == shown["digest"]
    assert client.get("/api/v1/policies/refunds/9", headers=keys.header("read")).status_code == 404


def test_policy_eval_explains_a_decision_and_names_a_bad_call_field(
    client: TestClient, keys: Keys
) -> None:
    _setup(client, keys)
    read = keys.header("read")
    r = client.post(
        "/api/v1/policies/refunds@1/eval",
        json={"call": {"tool": "lookup", "args": {"order_id": "BIG"}}, "agent": "bot@1"},
        headers=read,
    )
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["effect"] == "deny" and [m["rule"] for m in d["matched"]] == ["big"]
    assert d["message"] == "no big orders" and d["explanation"]
    ok = client.post(
        "/api/v1/policies/refunds/eval",
        json={"call": {"tool": "lookup", "args": {"order_id": "A1"}}},
        headers=read,
    )
    assert ok.json()["effect"] == "allow" and ok.json()["default_applied"]
    bad = client.post("/api/v1/policies/refunds@1/eval", json={"call": {"args": {}}}, headers=read)
    assert bad.status_code == 400 and "call.tool" in bad.json()["error"]


def test_policy_tests_run_store_for_the_gate_and_read_back(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _setup(client, keys)
    missing = client.get(
        "/api/v1/policies/refunds@1/tests", params={"agent": "bot@1"}, headers=keys.header("read")
    )
    assert missing.status_code == 404
    ran = client.post(
        "/api/v1/policies/refunds@1/tests", json={"agent": "bot@1"}, headers=keys.header("deploy")
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["passed"] and ran.json()["total"] == 2 and ran.json()["stored"]
    got = client.get(
        "/api/v1/policies/refunds@1/tests", params={"agent": "bot@1"}, headers=keys.header("read")
    ).json()
    assert got["passed"] and got["ran_by"] == "deploy-key" and len(got["cases"]) == 2
    assert store.audit_entries()[-1].action == "policy.test"


def test_policy_coverage_lists_uncovered_fields_of_the_pinned_policy(
    client: TestClient, keys: Keys
) -> None:
    _setup(client, keys)
    r = client.get("/api/v1/agents/bot@1/policy-coverage", headers=keys.header("read"))
    assert r.status_code == 200, r.text
    c = r.json()
    assert c["policy"] == "refunds@1" and c["tools"] == [{"tool": "lookup", "covered": True}]
    assert c["uncovered_fields"] == [] and c["fully_covered"]


def _pending(store: SqlStore) -> str:
    now = datetime.now(UTC)
    aid = "apr_" + uuid.uuid4().hex[:12]
    store.put_approval(
        ApprovalRecord(
            aid,
            "pending",
            "lookup",
            {"order_id": "A1"},
            "bot",
            1,
            None,
            "production",
            "refunds",
            1,
            "sha256:" + "0" * 64,
            ("big",),
            "needs approval",
            None,
            None,
            now,
            now + timedelta(minutes=5),
        )
    )
    return aid


def test_approvals_are_listed_granted_and_rejected_once(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    first, second = _pending(store), _pending(store)
    read = keys.header("read")
    listed = client.get("/api/v1/approvals", headers=read).json()
    assert {a["id"] for a in listed} == {first, second}
    ok = client.post(
        f"/api/v1/approvals/{first}/approve", json={"reason": "fine"}, headers=keys.header("deploy")
    )
    assert ok.status_code == 200 and ok.json()["status"] == "granted"
    assert ok.json()["decided_by"] == "deploy-key" and ok.json()["reason"] == "fine"
    twice = client.post(f"/api/v1/approvals/{first}/reject", json={}, headers=keys.header("deploy"))
    assert twice.status_code == 409
    no = client.post(f"/api/v1/approvals/{second}/reject", json={}, headers=keys.header("deploy"))
    assert no.json()["status"] == "denied"
    assert client.get(f"/api/v1/approvals/{second}", headers=read).json()["status"] == "denied"
    assert client.get("/api/v1/approvals", headers=read).json() == []
    everything = client.get("/api/v1/approvals", params={"status": "all"}, headers=read).json()
    assert len(everything) == 2
    assert client.get("/api/v1/approvals", params={"status": "x"}, headers=read).status_code == 400


def _result(store: SqlStore, digest: str, version: int, passed: tuple[bool, ...]) -> EvalResult:
    cases = tuple(
        CaseResult(f"c{i}", ok, () if ok else ("wrong tool",)) for i, ok in enumerate(passed)
    )
    r = EvalResult(uuid.uuid4().hex, "suite", "sha256:" + "2" * 64, "bot", version, digest,
                   datetime.now(UTC), "ci", cases)  # fmt: skip
    store.put_eval_result(r, AuditEvent("ci", "eval.result", f"bot@{version}", {}))
    return r


def test_eval_results_list_get_and_compare(client: TestClient, keys: Keys, store: SqlStore) -> None:
    _setup(client, keys, pin=False)
    digest = client.get("/api/v1/agents/bot@1", headers=keys.header("read")).json()["digest"]
    before = _result(store, digest, 1, (True, False, True))
    after = _result(store, digest, 1, (True, True, False))
    read = keys.header("read")
    listed = client.get("/api/v1/evals", params={"agent": "bot@1"}, headers=read).json()
    assert {r["id"] for r in listed} == {before.id, after.id} and "cases" not in listed[0]
    assert client.get("/api/v1/evals", params={"agent": "other"}, headers=read).json() == []
    one = client.get(f"/api/v1/evals/{before.id}", headers=read).json()
    assert one["passed"] == 2 and [c["passed"] for c in one["cases"]] == [True, False, True]
    cmp = client.get(
        "/api/v1/evals/compare", params={"before": before.id, "after": after.id}, headers=read
    ).json()
    assert cmp["summary"] == {"still passing": 1, "fixed": 1, "broken": 1}
    assert client.get("/api/v1/evals/nope", headers=read).status_code == 404


@pytest.fixture
def scoring_client(store: SqlStore) -> Iterator[TestClient]:
    from agentdeck.server.app import create_app

    app = create_app(store)
    app.state.agentdeck.after_ingest.online = OnlineEvaluation([Completion()], envs=None)
    with TestClient(app) as c:
        yield c


def test_online_evaluators_score_ingested_runs_and_scores_are_summarized(
    scoring_client: TestClient, keys: Keys, store: SqlStore
) -> None:
    from demo_data import demo_run
    from test_api_monitoring import batch_to_bytes

    runs = [demo_run(), demo_run(fail=True)]
    body = batch_to_bytes([r for r, _ in runs], [s for _, spans in runs for s in spans])
    assert (
        scoring_client.post(
            "/api/v1/ingest", content=body, headers=keys.header("ingest")
        ).status_code
        == 202
    )
    assert scoring_client.app.state.agentdeck.after_ingest.drain(20)  # type: ignore[attr-defined]
    evals = [s for s in store.get_spans(runs[1][0].trace_id) if s.kind is SpanKind.EVAL]
    assert len(evals) == 1 and evals[0].attributes["eval.passed"] is False
    r = scoring_client.get(
        "/api/v1/scores", params={"agent": "support-bot"}, headers=keys.header("read")
    )
    assert r.json() == [{"evaluator": "completion", "runs": 2, "mean": 0.5, "pass_rate": 0.5}]


TRACING = Path(__file__).resolve().parents[1] / "tracing"


def test_replay_runs_in_the_server_and_its_report_is_stored(
    sqlite_store: SqlStore, keys_sqlite: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(TRACING))
    monkeypatch.chdir(TRACING)  # the server imports entrypoints from its working directory
    from replay_support import record, register_both, start_recording

    from agentdeck.server.app import create_app
    from agentdeck.tracing.sdk import api as sdk

    v1, _ = register_both(sqlite_store)
    start_recording(sqlite_store, tmp_path)
    try:
        run_id = record(v1, "refund ORD-1 20")
    finally:
        sdk.shutdown(10)
    with TestClient(create_app(sqlite_store)) as client:
        deploy = keys_sqlite.header("deploy")
        r = client.post("/api/v1/replays", json={"run_id": run_id}, headers=deploy)
        assert r.status_code == 200, r.text
        assert r.json()["reproduced"] and r.json()["report_id"]
        w = client.post(
            "/api/v1/replays", json={"run_id": run_id, "with": "shop-bot@2"}, headers=deploy
        )
        assert w.status_code == 200 and w.json()["candidate_agent"] == "shop-bot@2"
        read = keys_sqlite.header("read")
        listed = client.get("/api/v1/replays", params={"run": run_id}, headers=read).json()
        assert [x["kind"] for x in listed] == ["with", "reproduce"]
        one = client.get(f"/api/v1/replays/{r.json()['report_id']}", headers=read).json()
        assert one["outcome"] == "reproduced" and one["report"]["source_trace_id"] == run_id
        assert client.get("/api/v1/replays/nope", headers=read).status_code == 404
        unknown = client.post("/api/v1/replays", json={"run_id": "f" * 32}, headers=deploy)
        assert unknown.status_code == 404


@pytest.fixture
def keys_sqlite(sqlite_store: SqlStore) -> Keys:
    from server_support import make_keys

    return make_keys(sqlite_store)
