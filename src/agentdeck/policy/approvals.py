"""Approvers: who says yes to a tool call whose decision is ``require_approval``.

An :class:`Approver` gets an :class:`ApprovalRequest` and answers with an
:class:`ApprovalOutcome`; the policy guard runs the tool only on a grant, and otherwise raises
``PolicyDenied`` with the approver's reason. Three come with agentdeck:

- :class:`DenyApprover` (the default): refuses with "approval required", so a policy that asks
  for approval never lets a call through unattended;
- :class:`CallbackApprover`: asks a Python function (a chat prompt, a test double, ...);
- :class:`StoreApprover`: writes a pending request to the store and waits, polling with
  exponential backoff up to a timeout, until someone grants or rejects it with
  ``agentdeck policy approve ID`` / ``agentdeck policy reject ID`` or through the API
  (:func:`grant` and :func:`reject` here are what both call). A request still pending at the
  timeout is marked ``expired`` (compare-and-set, so a late grant is refused) and denied.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentdeck.core.artifacts import AuditEvent
from agentdeck.core.errors import ConflictError, InputError

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by what uses it
    from agentdeck.store.protocol import ApprovalRecord, PolicyStore

__all__ = [
    "ApprovalOutcome",
    "ApprovalRequest",
    "Approver",
    "CallbackApprover",
    "DenyApprover",
    "StoreApprover",
    "grant",
    "reject",
]


@dataclass(frozen=True)
class ApprovalRequest:
    """A tool call that a policy says needs approval, with what the approver should know."""

    tool: str
    args: Mapping[str, Any]
    policy_name: str
    policy_version: int | None
    policy_digest: str
    rules: tuple[str, ...]
    message: str
    explanation: str
    agent_name: str | None = None
    agent_version: int | None = None
    agent_digest: str | None = None
    env: str | None = None
    trace_id: str | None = None
    span_id: str | None = None


@dataclass(frozen=True)
class ApprovalOutcome:
    """An approver's answer; ``request_id`` names the stored request, if there is one."""

    granted: bool
    approver: str
    reason: str = ""
    request_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "granted": self.granted,
            "approver": self.approver,
            "reason": self.reason,
        }
        if self.request_id is not None:
            out["request_id"] = self.request_id
        return out


@runtime_checkable
class Approver(Protocol):
    """Decides a ``require_approval`` call. May block (the tool waits); must not raise."""

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome: ...


class DenyApprover:
    """The default: nobody is asked, so the call is denied with "approval required"."""

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome:
        return ApprovalOutcome(False, "none", "approval required (no approver configured)")


class CallbackApprover:
    """Asks ``fn(request)``: ``True``/``False`` or a full :class:`ApprovalOutcome`. A callback
    that raises denies (fail-closed), with its error as the reason."""

    def __init__(
        self, fn: Callable[[ApprovalRequest], bool | ApprovalOutcome], name: str = "callback"
    ) -> None:
        self.fn = fn
        self.name = name

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome:
        try:
            answer = self.fn(request)
        except Exception as exc:
            return ApprovalOutcome(
                False, self.name, f"approver failed: {type(exc).__name__}: {exc}"
            )
        if isinstance(answer, ApprovalOutcome):
            return answer
        if answer is True:
            return ApprovalOutcome(True, self.name, "approved by callback")
        return ApprovalOutcome(False, self.name, "rejected by callback")


def new_approval_id() -> str:
    return "apr_" + secrets.token_hex(8)


class StoreApprover:
    """Writes the request to the store and waits for a human's grant or rejection.

    Polls every ``poll_initial`` seconds, doubling up to ``poll_max``, for at most ``timeout``
    seconds; then marks the request expired and denies. ``sleep`` and ``clock`` are seams for
    tests. A store error while waiting denies (fail-closed).
    """

    def __init__(
        self,
        store: PolicyStore,
        *,
        timeout: float = 300.0,
        poll_initial: float = 0.05,
        poll_max: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise InputError(f"StoreApprover: timeout must be positive, not {timeout}")
        self.store = store
        self.timeout = timeout
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self._sleep = sleep
        self._clock = clock

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome:
        from agentdeck.store.protocol import ApprovalRecord

        now = datetime.now(UTC)
        rid = new_approval_id()
        try:
            self.store.put_approval(
                ApprovalRecord(
                    id=rid,
                    status="pending",
                    tool=request.tool,
                    args=dict(request.args),
                    agent_name=request.agent_name,
                    agent_version=request.agent_version,
                    agent_digest=request.agent_digest,
                    env=request.env,
                    policy_name=request.policy_name,
                    policy_version=request.policy_version,
                    policy_digest=request.policy_digest,
                    rules=request.rules,
                    message=request.message,
                    trace_id=request.trace_id,
                    span_id=request.span_id,
                    requested_at=now,
                    expires_at=now + timedelta(seconds=self.timeout),
                )
            )
            return self._wait(rid)
        except Exception as exc:
            return ApprovalOutcome(
                False, "store", f"approval store failed: {type(exc).__name__}: {exc}", rid
            )

    def _wait(self, rid: str) -> ApprovalOutcome:
        deadline = self._clock() + self.timeout
        delay = self.poll_initial
        while True:
            rec = self.store.get_approval(rid)
            if rec is not None and rec.status != "pending":
                return _outcome(rec)
            left = deadline - self._clock()
            if left <= 0:
                break
            self._sleep(min(delay, left))
            delay = min(delay * 2, self.poll_max)
        try:
            rec = self.store.decide_approval(
                rid, "expired", "timeout", f"no decision within {self.timeout:g}s",
                datetime.now(UTC), None,
            )  # fmt: skip
        except ConflictError:  # decided at the last moment: honour it
            rec_now = self.store.get_approval(rid)
            assert rec_now is not None
            rec = rec_now
        return _outcome(rec)


def _outcome(rec: ApprovalRecord) -> ApprovalOutcome:
    granted = rec.status == "granted"
    if rec.status == "expired":
        reason = f"approval required: request {rec.id} expired ({rec.reason})"
    else:
        verb = "granted" if granted else "rejected"
        reason = f"approval {verb} by {rec.decided_by}" + (f": {rec.reason}" if rec.reason else "")
    return ApprovalOutcome(granted, rec.decided_by or "store", reason, rec.id)


def _decide(
    store: PolicyStore, approval_id: str, status: str, actor: str, reason: str
) -> ApprovalRecord:
    action = "policy.approve" if status == "granted" else "policy.reject"
    return store.decide_approval(
        approval_id, status, actor, reason, datetime.now(UTC),
        AuditEvent(actor, action, approval_id, {"reason": reason}),
    )  # fmt: skip


def grant(store: PolicyStore, approval_id: str, actor: str, reason: str = "") -> ApprovalRecord:
    """Grant a pending request (``agentdeck policy approve``); audited. Raises
    ``ReferenceError_`` for an unknown id and ``ConflictError`` if it is already decided."""
    return _decide(store, approval_id, "granted", actor, reason)


def reject(store: PolicyStore, approval_id: str, actor: str, reason: str = "") -> ApprovalRecord:
    """Reject a pending request (``agentdeck policy reject``); audited."""
    return _decide(store, approval_id, "denied", actor, reason)
