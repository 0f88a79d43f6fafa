"""What policy enforcement stores: approval requests and policy test results.

Values only; :class:`agentdeck.store.protocol.PolicyStore` persists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ApprovalRecord:
    """A tool call waiting for (or given) a human's approval.

    ``status``: ``pending``, then ``granted``, ``denied`` or ``expired`` (the waiting agent
    gave up); ``rules`` are the ids of the rules that asked for approval. ``requested_by`` is
    who opened it through the API (the API key's id; migration ``0009_approval_owner``), or
    ``None`` for a request written straight to the store (the embedded ``StoreApprover``).
    """

    id: str
    status: str
    tool: str
    args: Any
    agent_name: str | None
    agent_version: int | None
    agent_digest: str | None
    env: str | None
    policy_name: str
    policy_version: int | None
    policy_digest: str
    rules: tuple[str, ...]
    message: str
    trace_id: str | None
    span_id: str | None
    requested_at: datetime
    expires_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = None
    reason: str | None = None
    requested_by: str | None = None


@dataclass(frozen=True)
class PolicyTestRecord:
    """The outcome of a policy's test cases for one agent version (the deployment gate reads
    it); ``results`` are ``{name, passed, effect, reason}`` mappings, one per case."""

    policy_digest: str
    agent_digest: str
    policy_ref: str
    agent_ref: str
    total: int
    failed: int
    results: tuple[Any, ...]
    ran_at: datetime
    ran_by: str

    @property
    def passed(self) -> bool:
        return self.failed == 0
