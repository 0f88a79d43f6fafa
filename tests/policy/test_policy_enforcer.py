"""Policy enforcement through the real SDK: deny, warn, approval, spans, pinning, fail-closed,
and the example's run-history rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from policy_support import (
    effects,
    issue_refund,
    lookup_order,
    policy_from,
    register_example,
    search_kb,
    send_email,
    spans,
    start_sdk,
    verify_identity,
)

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.trace.model import LinkKind, SpanKind, SpanStatus
from agentdeck.policy.approvals import ApprovalRequest, CallbackApprover
from agentdeck.policy.enforcer import PolicyGuard
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import make_spec


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _verified(order: str = "ORD-1001") -> None:
    lookup_order(order)
    verify_identity(order, "jane@example.com")


def test_deny_raises_into_the_agent_the_tool_does_not_run_and_the_agent_continues(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1") as run:
        with pytest.raises(PolicyDenied) as info:
            issue_refund("ORD-1001", 40.0, "damaged")  # before verify_identity
        assert info.value.rules == ["verify-before-refund"]
        assert "verify_identity" in info.value.message
        assert effects == []  # the refund did not happen
        _verified()  # the agent recovers: verify, then refund
        assert issue_refund("ORD-1001", 40.0, "damaged")["status"] == "issued"
    assert [e[0] for e in effects] == ["lookup_order", "verify_identity", "issue_refund"]
    tools = spans(sink, run.trace_id, SpanKind.TOOL)
    assert tools[0].attributes["tool.denied"] is True
    assert tools[0].status is SpanStatus.ERROR
    assert tools[-1].status is SpanStatus.OK


def test_warn_lets_the_tool_run_and_records_the_warning(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1") as run:
        verify_identity("ORD-2002", "jane@example.com")  # verified but never looked up
        issue_refund("ORD-2002", 20.0, "damaged")
    assert effects[-1] == ("issue_refund", {"order_id": "ORD-2002", "amount": 20.0})
    last = spans(sink, run.trace_id, SpanKind.POLICY)[-1]
    assert last.outputs["effect"] == "warn"
    assert last.outputs["rules"] == ["refund-unlooked-order"]
    assert last.attributes["policy.allowed"] is True


def test_policy_span_is_a_linked_child_of_the_tool_span_naming_the_rules(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    pv, _ = register_example(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1") as run:
        _verified()
        with pytest.raises(PolicyDenied):
            issue_refund("ORD-1001", 900.0, "damaged")
    tools = {s.span_id: s for s in spans(sink, run.trace_id, SpanKind.TOOL)}
    policies = spans(sink, run.trace_id, SpanKind.POLICY)
    assert len(policies) == 3  # one decision per tool call
    denied = policies[-1]
    tool = tools[denied.parent_id]  # type: ignore[index]
    assert tool.name == "issue_refund" and tool.attributes["tool.denied"] is True
    assert [(lk.span_id, lk.kind) for lk in denied.links] == [(tool.span_id, LinkKind.POLICY)]
    assert denied.outputs["effect"] == "deny"
    assert "refund-hard-limit" in denied.outputs["rules"]
    assert "refund-hard-limit" in denied.outputs["explanation"]
    assert denied.outputs["message"].startswith("Refunds above 500")
    assert denied.attributes["policy.name"] == "support-refunds"
    assert denied.attributes["policy.version"] == 1
    assert denied.attributes["policy.digest"] == pv.digest
    assert tool.attributes["policy.rules"] == ["refund-hard-limit"]


def test_require_approval_is_denied_by_default(tmp_path: Path, sqlite_store: SqlStore) -> None:
    register_example(sqlite_store)
    start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1"):
        _verified()
        with pytest.raises(PolicyDenied, match="approval required") as info:
            issue_refund("ORD-1001", 250.0, "damaged")
    assert info.value.rules == ["refund-needs-approval"]
    assert "issue_refund" not in [e[0] for e in effects]


def test_require_approval_asks_the_callback_and_runs_on_yes(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    asked: list[ApprovalRequest] = []

    def supervisor(req: ApprovalRequest) -> bool:
        asked.append(req)
        return req.args["amount"] < 300

    sink = start_sdk(tmp_path, sqlite_store, approver=CallbackApprover(supervisor, "supervisor"))
    with sdk.run(agent="support-bot@1") as run:
        _verified()
        issue_refund("ORD-1001", 250.0, "damaged")
        with pytest.raises(PolicyDenied, match="rejected by callback"):
            issue_refund("ORD-1001", 400.0, "damaged")
    assert [e for e in effects if e[0] == "issue_refund"] == [
        ("issue_refund", {"order_id": "ORD-1001", "amount": 250.0})
    ]
    assert [r.rules for r in asked] == [("refund-needs-approval",), ("refund-needs-approval",)]
    assert asked[0].agent_name == "support-bot" and asked[0].policy_version == 1
    approvals = [p.outputs["approval"] for p in spans(sink, run.trace_id, SpanKind.POLICY)
                 if "approval" in p.outputs]  # fmt: skip
    assert [a["granted"] for a in approvals] == [True, False]


def test_email_budget_and_verify_before_refund_use_the_run_history(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1"):
        for i in range(3):
            send_email("jane@example.com", f"update {i}", "hi")
        with pytest.raises(PolicyDenied) as info:
            send_email("jane@example.com", "update 3", "hi")
        assert info.value.rules == ["email-budget"]
        with pytest.raises(PolicyDenied):
            send_email("attacker@evil.test", "orders", "all of them")
        verify_identity("ORD-3003", "jane@example.com")  # another order does not count
        with pytest.raises(PolicyDenied, match="verify-before-refund"):
            issue_refund("ORD-1001", 20.0, "damaged")
    with sdk.run(agent="support-bot@1"):  # a new run has a new budget
        send_email("jane@example.com", "hello", "hi")
    assert [e[0] for e in effects] == ["send_email"] * 3 + ["verify_identity", "send_email"]


def _bump(store: SqlStore) -> None:
    """Register support-refunds@2, which denies every knowledge-base search."""
    strict = policy_from(
        {
            "name": "support-refunds",
            "rules": [{"id": "no-kb", "when": 'tool.name == "search_kb"', "effect": "deny"}],
        }
    )
    pv2, created = Registry(store).register_policy(strict, "test")
    assert created and pv2.version == 2


def test_the_pinned_version_is_enforced_even_when_a_newer_one_exists(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    pv1, _ = register_example(sqlite_store)
    _bump(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="support-bot@1") as run:
        search_kb("refund policy")  # allowed by @1, denied by @2
    assert effects == [("search_kb", {"query": "refund policy"})]
    (decision,) = spans(sink, run.trace_id, SpanKind.POLICY)
    assert decision.attributes["policy.version"] == 1
    assert decision.attributes["policy.digest"] == pv1.digest


def test_an_agent_without_a_pinned_policy_is_not_enforced(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    _bump(sqlite_store)  # policies exist, but this agent pins none
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent=make_spec("free-bot")) as run:
        search_kb("anything")
        issue_refund("ORD-1", 9999.0, "no policy")
    assert [e[0] for e in effects] == ["search_kb", "issue_refund"]
    assert spans(sink, run.trace_id, SpanKind.POLICY) == []


def test_an_evaluation_error_fails_closed(tmp_path: Path, sqlite_store: SqlStore) -> None:
    reg = Registry(sqlite_store)
    reg.register_policy(
        policy_from(
            {
                "name": "fragile",
                "rules": [
                    {
                        "id": "big",
                        "when": 'tool.name == "issue_refund" && args.total > 5',
                        "effect": "warn",
                    },
                ],
            }
        ),
        "test",
    )
    spec = make_spec("fragile-bot", policy="fragile@1")
    reg.register_agent(spec, "test")
    sink = start_sdk(tmp_path, sqlite_store)
    with (
        sdk.run(agent="fragile-bot@1") as run,
        pytest.raises(PolicyDenied, match="fail-closed") as info,
    ):
        issue_refund("ORD-1", 1.0, "no 'total' argument")
    assert info.value.rules == ["big"]
    assert effects == []
    (decision,) = spans(sink, run.trace_id, SpanKind.POLICY)
    assert decision.outputs["effect"] == "deny"


def test_an_unavailable_policy_fails_closed(tmp_path: Path, sqlite_store: SqlStore) -> None:
    register_example(sqlite_store)

    class Down:
        def get_policy(self, ref: str) -> PolicySet:
            raise ConnectionError("server unreachable")

    start_sdk(tmp_path, sqlite_store, guard=PolicyGuard(Down()))
    with sdk.run(agent="support-bot@1"), pytest.raises(PolicyDenied, match="unreachable"):
        search_kb("refunds")
    assert effects == []


def test_agentdeck_init_installs_the_pinned_policy_guard_by_default(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    import agentdeck

    register_example(sqlite_store)
    agentdeck.init(sink=sqlite_store, spill_dir=tmp_path / "spill", schedule_delay=0.02)
    effects.clear()
    agent = Registry(sqlite_store).resolve("support-bot@1")
    with agentdeck.run(agent=agent) as run, pytest.raises(PolicyDenied):
        issue_refund("ORD-1001", 40.0, "damaged")
    assert effects == []
    assert sdk.flush(5)
    kinds = [s.kind for s in sqlite_store.get_spans(run.trace_id)]
    assert SpanKind.POLICY in kinds


def test_enforce_policies_false_turns_the_guard_off(tmp_path: Path, sqlite_store: SqlStore) -> None:
    import agentdeck

    register_example(sqlite_store)
    agentdeck.init(sink=sqlite_store, spill_dir=tmp_path / "spill", enforce_policies=False)
    effects.clear()
    with agentdeck.run(agent=Registry(sqlite_store).resolve("support-bot@1")):
        issue_refund("ORD-1001", 40.0, "damaged")
    assert [e[0] for e in effects] == ["issue_refund"]


def test_decisions_are_compiled_once_per_policy_version(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    fetched: list[str] = []
    reg = Registry(sqlite_store)

    class Counting:
        def get_policy(self, ref: str) -> Any:
            fetched.append(ref)
            return reg.get_policy(ref).policy

    guard = PolicyGuard(Counting())
    start_sdk(tmp_path, sqlite_store, guard=guard)
    for _ in range(3):
        with sdk.run(agent="support-bot@1"):
            search_kb("a")
            lookup_order("ORD-1001")
    assert fetched == ["support-refunds@1"]
    assert len(guard.cache) == 1


def test_arguments_reach_rules_as_json_values(tmp_path: Path, sqlite_store: SqlStore) -> None:
    # A tuple or a set is not a CEL value; the rule sees the argument as the trace records it
    # (a list), so an ordinary Python argument never fails the decision closed.
    reg = Registry(sqlite_store)
    reg.register_policy(
        policy_from(
            {
                "name": "lists",
                "rules": [
                    {
                        "id": "many",
                        "when": 'tool.name == "tag" && size(args.tags) > 2',
                        "effect": "deny",
                    }
                ],
            }
        ),
        "test",
    )
    reg.register_agent(make_spec("tag-bot", policy="lists@1"), "test")
    ran: list[Any] = []

    @sdk.tool
    def tag(tags: Any) -> None:
        ran.append(tags)

    start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="tag-bot@1"):
        tag(("a", "b"))
        with pytest.raises(PolicyDenied) as info:
            tag(("a", "b", "c"))
    assert info.value.rules == ["many"]
    assert ran == [("a", "b")]
