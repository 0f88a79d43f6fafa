"""``policy simulate``: runs recorded through the real SDK under support-refunds@1, decided
again by a stricter version, on both store backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from policy_support import (
    EXAMPLE_POLICY_FILE,
    issue_refund,
    lookup_order,
    policy_from,
    register_example,
    search_kb,
    send_email,
    start_sdk,
    verify_identity,
)

from agentdeck.core.errors import PolicyDenied, SpecError
from agentdeck.core.policy.evaluate import compile_policy
from agentdeck.core.policy.spec import Effect, PolicySet
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.policy.approvals import CallbackApprover
from agentdeck.policy.simulate import Simulation, recorded_calls, simulate, simulate_run
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import make_spec


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _stricter() -> PolicySet:
    """support-refunds@2: approval from 50 (not 100), and a refund retried after a denied
    one waits for approval (reads ``outcome == "denied"`` in the history)."""
    doc = yaml.safe_load(EXAMPLE_POLICY_FILE.read_text("utf-8"))
    for rule in doc["rules"]:
        if rule["id"] == "refund-needs-approval":
            rule["when"] = rule["when"].replace("args.amount > 100", "args.amount > 50")
    doc["rules"].append(
        {
            "id": "refund-retry-after-deny",
            "when": 'tool.name == "issue_refund" && run.counts["issue_refund"] > 0 '
            '&& run.calls.exists(c, c.tool == "issue_refund" && c.outcome == "denied")',
            "effect": "require_approval",
            "message": "A refund retried after a denied one needs a supervisor.",
        }
    )
    doc.pop("tests")
    return policy_from(doc)


def _record(tmp_path: Path, store: SqlStore) -> dict[str, str]:
    """Three runs of support-bot@1 in production (approvals granted), and one run of an agent
    that pins no policy; the SDK's records written to ``store``. Returns trace ids by name."""
    register_example(store)
    sink = start_sdk(tmp_path, store, approver=CallbackApprover(lambda _r: True, "supervisor"),
                     env="production")  # fmt: skip
    ids: dict[str, str] = {}
    with sdk.run(agent="support-bot@1") as run:  # small verified refund, an e-mail
        lookup_order("ORD-1")
        verify_identity("ORD-1", "jane@example.com")
        issue_refund("ORD-1", 80.0, "damaged")
        send_email("jane@example.com", "Refund", "Done.")
    ids["small"] = run.trace_id
    with sdk.run(agent="support-bot@1") as run:  # refund before verifying: denied, then retried
        lookup_order("ORD-2")
        with pytest.raises(PolicyDenied):
            issue_refund("ORD-2", 40.0, "damaged")
        verify_identity("ORD-2", "jane@example.com")
        issue_refund("ORD-2", 40.0, "damaged")
    ids["retry"] = run.trace_id
    with sdk.run(agent="support-bot@1") as run:  # 250: approval asked and granted
        lookup_order("ORD-3")
        verify_identity("ORD-3", "jane@example.com")
        issue_refund("ORD-3", 250.0, "damaged")
        search_kb("refund policy")
    ids["approved"] = run.trace_id
    with sdk.run(agent=make_spec("free-bot")) as run:  # no policy pinned: nothing recorded
        issue_refund("ORD-9", 900.0, "unguarded")
    ids["free"] = run.trace_id
    assert sdk.flush(5)
    store.write_batch(sink.runs, sink.spans)
    return ids


def _by_call(sim: Simulation) -> dict[tuple[str, int], tuple[str, str | None, str]]:
    return {(c.trace_id, c.step): (c.tool, c.recorded, c.effect.value) for c in sim.calls}


def test_a_stricter_version_changes_exactly_the_calls_it_should(
    tmp_path: Path, store: SqlStore
) -> None:
    ids = _record(tmp_path, store)
    pv2, _ = Registry(store).register_policy(_stricter(), "test")
    assert pv2.ref == "support-refunds@2"
    sim = simulate(store, pv2.policy, RunQuery(agent_name="support-bot"), label=pv2.ref)

    changed = [(c.trace_id, c.step, c.tool, c.transition, c.rules) for c in sim.changed_calls]
    assert sorted(changed) == sorted(
        [
            (ids["small"], 2, "issue_refund", "allow->require_approval",
             ("refund-needs-approval",)),
            (ids["retry"], 3, "issue_refund", "allow->require_approval",
             ("refund-retry-after-deny",)),
        ]
    )  # fmt: skip
    calls = _by_call(sim)
    assert calls[(ids["retry"], 1)] == ("issue_refund", "deny", "deny")  # unchanged
    assert calls[(ids["approved"], 2)] == (
        "issue_refund", "require_approval", "require_approval"
    )  # fmt: skip
    assert calls[(ids["small"], 3)] == ("send_email", "allow", "allow")
    assert all(c.recorded_policy == "support-refunds@1" for c in sim.calls)

    s = sim.summary
    assert (s.policy, s.policy_digest, s.runs, s.calls) == (pv2.ref, pv2.digest, 3, 12)
    assert dict(s.effects) == {"allow": 8, "warn": 0, "require_approval": 3, "deny": 1}
    assert (s.recorded, s.unrecorded, s.changed) == (12, 0, 2)
    assert dict(s.changes) == {"allow->require_approval": 2}
    assert dict(s.rule_hits) == {"refund-needs-approval": 2, "refund-retry-after-deny": 1,
                                 "verify-before-refund": 1}  # fmt: skip
    assert dict(s.rule_errors) == {}
    stops = {(x.trace_id, x.step, x.effect) for x in s.stopped}
    assert stops == {(ids["small"], 2, Effect.REQUIRE_APPROVAL),
                     (ids["retry"], 1, Effect.DENY),
                     (ids["approved"], 2, Effect.REQUIRE_APPROVAL)}  # fmt: skip
    data = sim.to_dict(changed_only=True)
    assert data["summary"]["changed"] == 2 and len(data["calls"]) == 2
    assert {c["recorded"] for c in data["calls"]} == {"allow"}


def test_the_recorded_version_reproduces_every_recorded_decision(
    tmp_path: Path, store: SqlStore
) -> None:
    _record(tmp_path, store)
    pv1 = Registry(store).get_policy("support-refunds@1")
    sim = simulate(store, pv1.policy, RunQuery(agent_name="support-bot", env="production"))
    assert sim.summary.calls == 12 and sim.summary.recorded == 12
    assert sim.changed_calls == ()
    assert sim.summary.effects["require_approval"] == 1  # the 250 refund
    assert sim.summary.policy == "support-refunds"  # no label: the policy's name


def test_a_denied_call_is_in_the_history_with_outcome_denied(
    tmp_path: Path, store: SqlStore
) -> None:
    ids = _record(tmp_path, store)
    ((_run, spans),) = store.get_runs_with_spans([ids["retry"]])
    calls = recorded_calls(spans)
    assert [(c.step, c.tool, c.outcome, c.recorded_effect) for c in calls] == [
        (0, "lookup_order", "ok", "allow"),
        (1, "issue_refund", "denied", "deny"),
        (2, "verify_identity", "ok", "allow"),
        (3, "issue_refund", "ok", "allow"),
    ]
    tool_spans = {s.span_id for s in spans if s.kind is SpanKind.TOOL}
    assert {c.span_id for c in calls} == tool_spans


def test_a_run_without_a_policy_has_no_recorded_decisions(tmp_path: Path, store: SqlStore) -> None:
    ids = _record(tmp_path, store)
    pv1 = Registry(store).get_policy("support-refunds@1")
    sim = simulate(store, pv1.policy, RunQuery(agent_name="free-bot"), label=pv1.ref)
    (call,) = sim.calls
    assert (call.trace_id, call.tool, call.outcome) == (ids["free"], "issue_refund", "ok")
    assert call.recorded is None and call.recorded_policy is None
    assert call.effect is Effect.DENY and not call.changed
    assert set(call.rules) == {"refund-hard-limit", "verify-before-refund"}
    assert call.transition == "none->deny"
    assert (sim.summary.recorded, sim.summary.unrecorded, sim.summary.changed) == (0, 1, 0)
    assert [x.trace_id for x in sim.summary.stopped] == [ids["free"]]


def test_selection_filters_and_limits_runs(tmp_path: Path, store: SqlStore) -> None:
    _record(tmp_path, store)
    policy = Registry(store).get_policy("support-refunds@1").policy
    assert simulate(store, policy, RunQuery(agent_name="support-bot", env="dev")).summary.runs == 0
    assert simulate(store, policy, RunQuery(agent_name="support-bot", agent_version=2)).calls == ()
    one = simulate(store, policy, RunQuery(agent_name="support-bot", limit=1))
    assert one.summary.runs == 1 and one.summary.calls == 4
    assert (
        simulate(store, policy, RunQuery(agent_name="support-bot", since_ns=2**62)).summary.runs
        == 0
    )


def test_a_policy_that_does_not_compile_is_refused(store: SqlStore) -> None:
    broken = policy_from(
        {"name": "p", "rules": [{"id": "r", "when": "nope(args)", "effect": "deny"}]}
    )
    with pytest.raises(SpecError, match=r"rules\[0\]\.when"):
        simulate(store, broken, RunQuery(agent_name="x"), label="broken.yaml")


def test_calls_made_in_parallel_are_not_in_each_others_history() -> None:
    """Live, a call's history holds the calls that had *finished* when it started, in the
    order they finished: ``a`` [0, 100] and ``b`` [50, 80] overlap, ``c`` starts after both."""
    policy = policy_from(
        {
            "name": "order",
            "rules": [
                {"id": "b-after-a", "when": 'tool.name == "b" && run.counts["a"] == 0',
                 "effect": "deny"},
                {"id": "c-sees-b-then-a", "effect": "warn",
                 "when": 'tool.name == "c" && run.calls.map(x, x.tool) == ["b", "a"] '
                         '&& run.step == 2 && run.calls[1].outcome == "error"'},
            ],
        }
    )  # fmt: skip
    tid = "ab" * 16
    run = Run(tid, "bot", 1, "sha256:" + "0" * 64, "dev", None, start_ns=0, end_ns=400)

    def tool(sid: str, name: str, start: int, end: int, seq: int, ok: bool = True) -> Span:
        return Span(tid, sid * 16, None, name, SpanKind.TOOL, start, end, seq,
                    SpanStatus.OK if ok else SpanStatus.ERROR, inputs={"args": {}},
                    attributes={"tool.name": name})  # fmt: skip

    spans = [tool("1", "a", 0, 100, 1, ok=False), tool("2", "b", 50, 80, 2),
             tool("3", "c", 200, 300, 3)]  # fmt: skip
    got = simulate_run(compile_policy(policy, "order.yaml"), run, spans)
    assert [(c.step, c.tool, c.effect.value, c.rules) for c in got] == [
        (0, "a", "allow", ()),
        (1, "b", "deny", ("b-after-a",)),  # a had not finished when b started
        (2, "c", "warn", ("c-sees-b-then-a",)),
    ]
