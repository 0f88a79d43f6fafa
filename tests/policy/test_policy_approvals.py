"""Approvals through the store: granted from another thread by the CLI command, rejected,
expired at the timeout, and decided at most once (both backends)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_support import (
    effects,
    issue_refund,
    lookup_order,
    register_example,
    spans,
    start_sdk,
    verify_identity,
)

from agentdeck.cli import policy_cmds
from agentdeck.core.errors import ConflictError, PolicyDenied, ReferenceError_
from agentdeck.core.trace import SpanKind
from agentdeck.policy import approvals
from agentdeck.policy.approvals import ApprovalRequest, StoreApprover
from agentdeck.store import SqlStore
from agentdeck.tracing import sdk


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _request(amount: float = 250.0) -> ApprovalRequest:
    return ApprovalRequest(
        tool="issue_refund", args={"order_id": "ORD-1", "amount": amount},
        policy_name="support-refunds", policy_version=1, policy_digest="sha256:" + "0" * 64,
        rules=("refund-needs-approval",), message="needs a supervisor", explanation="...",
        agent_name="support-bot", agent_version=1, agent_digest="sha256:" + "1" * 64,
    )  # fmt: skip


def _decide_when_pending(store: SqlStore, decide: object, *args: object) -> threading.Thread:
    """A supervisor in another thread: waits for the pending request, then decides it."""

    def supervisor() -> None:
        for _ in range(500):
            pending = store.list_approvals("pending")
            if pending:
                decide(pending[0].id, *args)  # type: ignore[operator]
                return
            time.sleep(0.01)

    t = threading.Thread(target=supervisor, daemon=True)
    t.start()
    return t


def test_a_grant_from_the_cli_in_another_thread_lets_the_tool_run(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    register_example(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store,
                     approver=StoreApprover(sqlite_store, timeout=20, poll_initial=0.01))  # fmt: skip

    def cli_approve(approval_id: str) -> None:
        policy_cmds.approve_cmd(approval_id, reason="checked the receipt", db=sqlite_store.url,
                                actor="alice", json=False)  # fmt: skip

    with sdk.run(agent="support-bot@1") as run:
        lookup_order("ORD-1001")
        verify_identity("ORD-1001", "jane@example.com")
        t = _decide_when_pending(sqlite_store, cli_approve)
        assert issue_refund("ORD-1001", 250.0, "damaged")["status"] == "issued"
        t.join(5)
    assert effects[-1] == ("issue_refund", {"order_id": "ORD-1001", "amount": 250.0})
    (rec,) = sqlite_store.list_approvals("granted")
    assert rec.decided_by == "alice" and rec.reason == "checked the receipt"
    assert rec.rules == ("refund-needs-approval",) and rec.trace_id == run.trace_id
    approval = spans(sink, run.trace_id, SpanKind.POLICY)[-1].outputs["approval"]
    assert approval == {"granted": True, "approver": "alice", "request_id": rec.id,
                        "reason": "approval granted by alice: checked the receipt"}  # fmt: skip
    assert [e.action for e in sqlite_store.audit_entries()][-1] == "policy.approve"


def test_a_rejection_denies_the_call(store: SqlStore) -> None:
    def no(approval_id: str) -> None:
        approvals.reject(store, approval_id, "bob", "not this one")

    t = _decide_when_pending(store, no)
    outcome = StoreApprover(store, timeout=20, poll_initial=0.01).approve(_request())
    t.join(5)
    assert not outcome.granted
    assert outcome.reason == "approval rejected by bob: not this one"
    assert store.get_approval(outcome.request_id or "").status == "denied"  # type: ignore[union-attr]


def test_no_decision_within_the_timeout_denies_and_expires_the_request(store: SqlStore) -> None:
    outcome = StoreApprover(store, timeout=0.1, poll_initial=0.01).approve(_request())
    assert not outcome.granted and "expired" in outcome.reason
    rec = store.get_approval(outcome.request_id or "")
    assert rec is not None and rec.status == "expired"
    with pytest.raises(ConflictError, match="already expired"):
        approvals.grant(store, rec.id, "late-alice")  # too late: nothing changes
    assert store.get_approval(rec.id).status == "expired"  # type: ignore[union-attr]


def test_the_wait_backs_off_up_to_the_maximum(store: SqlStore) -> None:
    slept: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    StoreApprover(store, timeout=10, poll_initial=0.5, poll_max=2.0, sleep=sleep,
                  clock=lambda: now[0]).approve(_request())  # fmt: skip
    assert slept[:4] == [0.5, 1.0, 2.0, 2.0]
    assert sum(slept) == pytest.approx(10.0)


def test_a_request_is_decided_once_and_unknown_ids_are_refused(store: SqlStore) -> None:
    def yes(approval_id: str) -> None:
        approvals.grant(store, approval_id, "alice")

    t = _decide_when_pending(store, yes)
    outcome = StoreApprover(store, timeout=20, poll_initial=0.01).approve(_request())
    t.join(5)
    assert outcome.granted
    with pytest.raises(ConflictError, match="already granted by alice"):
        approvals.reject(store, outcome.request_id or "", "bob")
    with pytest.raises(ReferenceError_):
        approvals.grant(store, "apr_nope", "alice")


def test_a_timed_out_approval_denies_the_tool_call(tmp_path: Path, sqlite_store: SqlStore) -> None:
    register_example(sqlite_store)
    start_sdk(tmp_path, sqlite_store,
              approver=StoreApprover(sqlite_store, timeout=0.05, poll_initial=0.01))  # fmt: skip
    with sdk.run(agent="support-bot@1"):
        lookup_order("ORD-1001")
        verify_identity("ORD-1001", "jane@example.com")
        with pytest.raises(PolicyDenied, match="expired"):
            issue_refund("ORD-1001", 250.0, "damaged")
    assert "issue_refund" not in [e[0] for e in effects]
