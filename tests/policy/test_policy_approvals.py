"""Approvals through the store: granted from another thread by the CLI command, rejected,
expired at the timeout, decided at most once, and never listed as pending past the deadline
(by ``agentdeck policy approvals`` either) (both backends)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

from agentdeck.cli import common, policy_cmds
from agentdeck.core.errors import ConflictError, InputError, PolicyDenied, UnresolvedReferenceError
from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.core.trace.model import SpanKind
from agentdeck.policy import approvals
from agentdeck.policy.approvals import ApprovalRequest, StoreApprover
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk


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
    with pytest.raises(UnresolvedReferenceError):
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


# -- listings expire what is past its deadline -------------------------------------------------


def _opened_ago(store: SqlStore, seconds: float, timeout: float = 60) -> ApprovalRecord:
    """A pending request opened ``seconds`` ago (so past its deadline if that exceeds timeout)."""
    return approvals.open_request(
        store, _request(), timeout, now=datetime.now(UTC) - timedelta(seconds=seconds)
    )


def test_the_cli_listing_never_shows_a_request_past_its_deadline_as_pending(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(policy_cmds, "get_store", lambda db: store)
    monkeypatch.setattr(common.console, "width", 200)
    late = _opened_ago(store, 120)  # expired a minute ago, still "pending" in the table
    fresh = _opened_ago(store, 0)
    assert {a.id for a in store.list_approvals("pending")} == {late.id, fresh.id}

    def listing(status: str) -> list[dict[str, object]]:
        capsys.readouterr()
        policy_cmds.approvals_cmd(status=status, db=None, json=True)
        return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]

    assert [a["id"] for a in listing("pending")] == [fresh.id]
    expired = store.get_approval(late.id)
    assert expired is not None and (expired.status, expired.decided_by) == ("expired", "timeout")
    assert expired.reason == "no decision within 60s"
    (shown,) = listing("expired")
    assert (shown["id"], shown["status"], shown["requested_by"]) == (late.id, "expired", None)
    with pytest.raises(ConflictError, match="already expired"):
        policy_cmds.approve_cmd(late.id, reason="", db=None, actor="alice", json=False)
    # the table shows the same thing
    _opened_ago(store, 300, timeout=5)
    capsys.readouterr()
    policy_cmds.approvals_cmd(status="pending", db=None, json=False)
    table = capsys.readouterr().out
    assert fresh.id in table and late.id not in table
    assert {a.id for a in store.list_approvals("pending")} == {fresh.id}


def test_a_listing_of_granted_or_denied_requests_leaves_the_queue_alone(store: SqlStore) -> None:
    late = _opened_ago(store, 120)
    assert approvals.list_current(store, "granted") == []
    assert store.get_approval(late.id).status == "pending"  # type: ignore[union-attr]
    assert [a.id for a in approvals.list_current(store, "all")] == [late.id]
    assert store.get_approval(late.id).status == "expired"  # type: ignore[union-attr]
    with pytest.raises(InputError, match="'weird' is not one of"):
        approvals.list_current(store, "weird")


def test_the_sweep_expires_every_due_request_in_batches(
    store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(approvals, "_SWEEP_BATCH", 2)
    due = [_opened_ago(store, 120 + i) for i in range(5)]
    fresh = _opened_ago(store, 0)
    decided = _opened_ago(store, 130)  # granted in time, long ago: not touched
    in_time = decided.requested_at + timedelta(seconds=10)
    store.decide_approval(decided.id, "granted", "alice", "", in_time, None)
    assert approvals.expire_due(store) == 5
    assert {a.id for a in store.list_approvals("expired")} == {d.id for d in due}
    assert store.get_approval(decided.id).status == "granted"  # type: ignore[union-attr]
    assert [a.id for a in approvals.list_current(store)] == [fresh.id]
    assert approvals.expire_due(store) == 0
    # ``now`` is when the sweep looks: a minute on, the fresh one is due too
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert approvals.list_current(store, "pending", now=later) == []
    assert store.get_approval(fresh.id).decided_at == later  # type: ignore[union-attr]
