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

An SDK that talks to a server asks through the API instead
(:class:`~agentdeck.policy.approvals_http.HttpApprover`); the server's routes use the same
functions as :class:`StoreApprover`: :func:`open_request` writes the pending request (with the
opening API key's id as ``requested_by``), :func:`expire_if_due` expires one whose deadline has
passed, and :func:`list_current` (the list route and ``agentdeck policy approvals``) expires
every such request before listing. ``expires_at`` is authoritative:
reading or deciding a request past it expires it first, so a request whose agent stopped
waiting (crashed, lost its connection) can never be granted late.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import ConflictError, InputError
from agentdeck.core.spec.artifacts import AuditEvent

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by what uses it
    from agentdeck.core.policy.records import ApprovalRecord
    from agentdeck.store.protocol import PolicyStore, RegistryStore

    class ApprovalDecisionStore(PolicyStore, RegistryStore, Protocol):
        """Requests, and the agents' projects (a decision is in its agent's project's log)."""


__all__ = [
    "APPROVAL_STATUSES",
    "ApprovalOutcome",
    "ApprovalRequest",
    "Approver",
    "CallbackApprover",
    "DenyApprover",
    "StoreApprover",
    "expire_due",
    "expire_if_due",
    "grant",
    "list_current",
    "new_approval_id",
    "open_request",
    "outcome_for",
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
    """A fresh, unguessable request id (``apr_`` and 16 hex digits). Who opened the request is
    recorded in its ``requested_by`` column, never encoded in the id."""
    return "apr_" + secrets.token_hex(8)


def open_request(
    store: PolicyStore,
    request: ApprovalRequest,
    timeout: float,
    *,
    approval_id: str | None = None,
    requested_by: str | None = None,
    now: datetime | None = None,
) -> ApprovalRecord:
    """Write ``request`` as a pending approval expiring ``timeout`` seconds from ``now``; the
    one path by which requests enter the queue (:class:`StoreApprover` and the API).

    ``requested_by`` names who opened it through the API (the server passes the API key's id,
    and lets that key, besides readers, read the request back); ``None`` for a request written
    straight to the store (the embedded :class:`StoreApprover`), which no ingest key owns."""
    from agentdeck.core.policy.records import ApprovalRecord

    at = now if now is not None else datetime.now(UTC)
    record = ApprovalRecord(
        id=approval_id or new_approval_id(),
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
        rules=tuple(request.rules),
        message=request.message,
        trace_id=request.trace_id,
        span_id=request.span_id,
        requested_at=at,
        expires_at=at + timedelta(seconds=timeout),
        requested_by=requested_by,
    )
    store.put_approval(record)
    return record


def _expire(store: PolicyStore, rec: ApprovalRecord, now: datetime) -> ApprovalRecord:
    """Mark ``rec`` expired (compare-and-set); a decision that won the race is returned."""
    timeout = (rec.expires_at - rec.requested_at).total_seconds()
    try:
        return store.decide_approval(
            rec.id, "expired", "timeout", f"no decision within {timeout:g}s", now, None
        )
    except ConflictError:  # decided at the last moment: honour it
        decided = store.get_approval(rec.id)
        assert decided is not None
        return decided


def expire_if_due(
    store: PolicyStore, rec: ApprovalRecord, now: datetime | None = None
) -> ApprovalRecord:
    """``rec`` as it stands: expired first if it is still pending past its ``expires_at``."""
    at = now if now is not None else datetime.now(UTC)
    if rec.status != "pending" or at < rec.expires_at:
        return rec
    return _expire(store, rec, at)


APPROVAL_STATUSES = ("pending", "granted", "denied", "expired", "all")
"""What a listing may ask for: one status, or ``all``."""

_SWEEP_BATCH = 500


def expire_due(store: PolicyStore, now: datetime | None = None) -> int:
    """Expire every request still pending past its ``expires_at``; how many were due.

    A listing sweeps first so that it never shows as pending what can no longer be granted
    (the server's list route and ``agentdeck policy approvals`` both do). Each due request
    leaves ``pending`` (expired, or decided by a concurrent approver just in time), so the
    batches run out."""
    at = now if now is not None else datetime.now(UTC)
    swept = 0
    while True:
        due = store.list_approvals("pending", _SWEEP_BATCH, due_by=at)
        for rec in due:
            _expire(store, rec, at)
        swept += len(due)
        if len(due) < _SWEEP_BATCH:
            return swept


def list_current(
    store: PolicyStore,
    status: str = "pending",
    limit: int = 100,
    now: datetime | None = None,
    project: str | None = None,
) -> list[ApprovalRecord]:
    """Requests with ``status`` (one of :data:`APPROVAL_STATUSES`), newest first, as they
    stand at ``now``: those past their deadline are expired before listing; ``project``: of
    the agents that project sees."""
    if status not in APPROVAL_STATUSES:
        raise InputError(f"status: {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
    if status in ("pending", "expired", "all"):  # what is past its deadline shows as expired
        expire_due(store, now)
    return store.list_approvals(None if status == "all" else status, limit, project=project)


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
        rid = new_approval_id()
        try:
            rec = open_request(self.store, request, self.timeout, approval_id=rid)
            return self._wait(rec)
        except Exception as exc:
            return ApprovalOutcome(
                False, "store", f"approval store failed: {type(exc).__name__}: {exc}", rid
            )

    def _wait(self, opened: ApprovalRecord) -> ApprovalOutcome:
        deadline = self._clock() + self.timeout
        delay = self.poll_initial
        while True:
            rec = self.store.get_approval(opened.id)
            if rec is not None and rec.status != "pending":
                return _outcome(rec)
            left = deadline - self._clock()
            if left <= 0:
                break
            self._sleep(min(delay, left))
            delay = min(delay * 2, self.poll_max)
        # our own deadline, not expires_at: this waiter gives up now, whatever the wall clock says
        return _outcome(_expire(self.store, opened, datetime.now(UTC)))


def _outcome(rec: ApprovalRecord) -> ApprovalOutcome:
    return outcome_for(rec.id, rec.status, rec.decided_by, rec.reason)


def outcome_for(
    approval_id: str, status: str, decided_by: str | None, reason: str | None
) -> ApprovalOutcome:
    """The approver's answer for a decided request (``granted``, ``denied`` or ``expired``),
    worded the same whether the request was read from the store or from the API."""
    granted = status == "granted"
    if status == "expired":
        text = f"approval required: request {approval_id} expired ({reason})"
    else:
        verb = "granted" if granted else "rejected"
        text = f"approval {verb} by {decided_by}" + (f": {reason}" if reason else "")
    return ApprovalOutcome(granted, decided_by or "store", text, approval_id)


def _decide(
    store: ApprovalDecisionStore, approval_id: str, status: str, actor: str, reason: str
) -> ApprovalRecord:
    action = "policy.approve" if status == "granted" else "policy.reject"
    now = datetime.now(UTC)
    current = store.get_approval(approval_id)
    if current is not None:
        expire_if_due(store, current, now)  # past its deadline: the decision below conflicts
    owner = store.agent_project(current.agent_name) if current and current.agent_name else None
    project = owner or DEFAULT_PROJECT
    return store.decide_approval(
        approval_id, status, actor, reason, now,
        AuditEvent(actor, action, approval_id, {"reason": reason}, project),
    )  # fmt: skip


def grant(
    store: ApprovalDecisionStore, approval_id: str, actor: str, reason: str = ""
) -> ApprovalRecord:
    """Grant a pending request (``agentdeck policy approve``); audited. Raises
    ``UnresolvedReferenceError`` for an unknown id and ``ConflictError`` if it is already decided or
    past its deadline (it is then expired, not granted)."""
    return _decide(store, approval_id, "granted", actor, reason)


def reject(
    store: ApprovalDecisionStore, approval_id: str, actor: str, reason: str = ""
) -> ApprovalRecord:
    """Reject a pending request (``agentdeck policy reject``); audited."""
    return _decide(store, approval_id, "denied", actor, reason)
