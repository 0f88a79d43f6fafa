"""Which stored runs to list: :class:`RunQuery` (:meth:`agentdeck.store.protocol.TraceStore.find_runs`)."""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.trace.model import Outcome, SpanStatus


@dataclass(frozen=True)
class RunQuery:
    """Filters for :meth:`SqlTraces.find_runs`; every field is optional. Times in ns since epoch."""

    agent_name: str | None = None
    agent_version: int | None = None
    agent_digest: str | None = None
    env: str | None = None
    status: SpanStatus | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    tool: str | None = None
    has_errors: bool | None = None  # True: a tool call failed; False: none did
    denied: bool | None = None  # True: a policy denied a tool call; False: none was
    outcome: Outcome | None = None
    session_id: str | None = None
    user_id: str | None = None
    limit: int = 100
    offset: int = 0
