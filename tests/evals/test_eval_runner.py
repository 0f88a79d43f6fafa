"""The runner: a suite run through the example agent's entrypoint, tools served from fixtures,
results judged and stored bound to the agent's digest (on SQLite and PostgreSQL)."""

from __future__ import annotations

from conftest_helpers import SUITE

from agentdeck.core.evals.suite import parse_suite
from agentdeck.core.trace.model import SpanKind
from agentdeck.evals.runner import EvalService, load_suite
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore


def test_suite_run_is_stored_bound_to_the_digest(store: SqlStore, recording: Registry) -> None:
    suite = load_suite(SUITE)
    result, runs = EvalService(store).run(suite, "support-bot@1", actor="tester", workers=4)
    v1 = recording.get("support-bot@1")
    assert result.agent_digest == v1.digest and result.agent_version == 1
    assert result.total == len(suite.cases) == len(runs)
    assert [c.case_id for c in result.cases] == [
        c.id for c in suite.cases
    ]  # suite order, not finish order
    stored = store.eval_results(agent_digest=v1.digest)
    assert [r.id for r in stored] == [result.id]
    assert stored[0] == result  # every field round-trips
    assert store.eval_results(agent_digest=recording.get("support-bot@2").digest) == []
    # Each case left a trace in the store, stamped as an eval run.
    first = result.cases[0]
    assert first.trace_id is not None
    run = store.get_run(first.trace_id)
    assert run is not None and run.attributes["eval.case"] == first.case_id
    assert run.agent_digest == v1.digest
    assert any(s.kind is SpanKind.TOOL for s in store.get_spans(first.trace_id))
    assert store.audit_entries()[-1].action == "eval.result"


def test_fixtures_stub_tools_and_the_real_tool_runs_otherwise(
    store: SqlStore, recording: Registry
) -> None:
    from support_bot import shop

    before = len(shop.LEDGER.refunds)
    suite = load_suite(SUITE)
    _, runs = EvalService(store).run(suite, "support-bot@1", actor="tester")
    by_id = {r.case.id: r for r in runs}
    refund = by_id["refund-small-damaged"]
    assert refund.verdict.passed, refund.verdict.reasons
    assert refund.calls_to("issue_refund")[0].result == {"refund_id": "RF-TEST", "status": "issued"}
    assert len(shop.LEDGER.refunds) == before  # the stub served it: no real refund
    # lookup_order has no suite fixture: the shop answered (in v1's pinned API: email).
    assert "email" in refund.calls_to("lookup_order")[0].result
    outage = by_id["lookup-outage"]
    assert outage.calls[0].error is not None and "503 upstream timeout" in outage.calls[0].error


def test_strict_fixtures_refuse_unstubbed_calls(store: SqlStore, recording: Registry) -> None:
    suite = parse_suite(
        {
            "name": "strict",
            "paths": [str(SUITE.parent.parent)],
            "strict_fixtures": True,
            "cases": [
                {
                    "id": "status",
                    "input": "Where is my order ORD-1001?",
                    "expect": {"calls": ["lookup_order"]},
                }
            ],
        },
        str(SUITE),
    )
    result, runs = EvalService(store).run(suite, "support-bot@1", actor="tester")
    assert (
        runs[0].calls[0].error is not None
        and "no fixture for lookup_order" in runs[0].calls[0].error
    )
    assert result.cases[0].passed  # the call was made (and failed): the case only asks for the call


def test_v2_differs_from_v1_on_the_store_credit_case(store: SqlStore, recording: Registry) -> None:
    suite = load_suite(SUITE)
    svc = EvalService(store)
    r1, _ = svc.run(suite, "support-bot@1", actor="tester")
    r2, _ = svc.run(suite, "support-bot@2", actor="tester")
    assert r1.passed == r1.total
    failed = [c.case_id for c in r2.cases if not c.passed]
    assert failed == ["refund-small-damaged"]
    assert svc.latest("support-bot@1", suite) == r1
    assert svc.latest("support-bot@2", suite) == r2
