"""Seams the ``@tool`` wrapper consults before a tool runs: the policy guard and replay's interceptor.

Order inside the wrapper: validate args -> :class:`ToolGuard` -> :class:`ToolInterceptor` ->
the tool itself. Both seams receive a :class:`ToolCallInfo`.

- A **guard** (the policy package implements one; set with ``agentdeck.init(guard=...)``)
  returns nothing to allow the call or raises :class:`~agentdeck.core.errors.PolicyDenied` to
  stop it. The tool then does not run, its span records ``status=error`` and
  ``tool.denied=true``, and the ``PolicyDenied`` reaches the agent's code: the one exception the
  SDK raises on purpose. Any other exception escaping a guard fails closed (it becomes a
  ``PolicyDenied``). A guard records its decision as a span with
  :func:`agentdeck.tracing.sdk.recorder.emit_linked_span`.
- An **interceptor** (replay and evals set one for a block of code with
  :func:`intercepting`) may return :class:`Intercepted` to serve a result instead of calling
  the tool, raise to serve a recorded error, or return ``None`` to let the tool run.

:class:`RunState` is the per-run history a guard sees (counts per tool, earlier calls in order
with their outcome); the wrapper maintains it with a dict increment and a list append.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

from agentdeck.core.cost import RunBudget, SpanCost
from agentdeck.core.spec.agent import ResolvedAgent, ToolSpec


class CallOutcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One finished tool call of the run, as a guard sees it."""

    name: str
    args: Mapping[str, Any]
    outcome: CallOutcome
    span_id: str
    result: Any = None  # what rules read as run.calls[i].result (policy_results.policy_result)


MAX_CALL_HISTORY = 10_000
"""Calls a run keeps in ``RunState.calls`` (bounded memory); ``counts`` stay exact past it."""


class RunState:
    """Per-run tool-call history, shared by all the run's threads and tasks.

    ``counts`` and ``calls`` are live read-only views: copy them if you keep them past the call.
    ``calls`` keeps the first :data:`MAX_CALL_HISTORY` calls of the run (append-only, so
    incremental readers stay valid); ``dropped_calls`` counts those not kept.
    """

    __slots__ = (
        "_calls", "_counts", "_counts_view", "_lock", "dropped_calls", "spend", "started_mono",
    )  # fmt: skip

    def __init__(self, started_mono: float) -> None:
        self.started_mono = started_mono
        self._counts: dict[str, int] = {}
        self._counts_view: Mapping[str, int] = MappingProxyType(self._counts)
        self._calls: list[ToolCallRecord] = []
        self._lock = threading.Lock()
        self.dropped_calls = 0
        self.spend = RunBudget()  # the run's LLM spend so far (policies: run.cost_usd, run.tokens)

    @property
    def counts(self) -> Mapping[str, int]:
        """Finished calls per tool name (denied calls included)."""
        return self._counts_view

    @property
    def calls(self) -> Sequence[ToolCallRecord]:
        """Finished calls in the order they finished."""
        return self._calls

    def record(self, call: ToolCallRecord) -> None:
        with self._lock:  # only taken when a guard is configured
            self._counts[call.name] = self._counts.get(call.name, 0) + 1
            if len(self._calls) < MAX_CALL_HISTORY:
                self._calls.append(call)
            else:
                self.dropped_calls += 1

    def add_spend(self, cost: SpanCost) -> None:
        """Add one LLM call's tokens and cost (priced in process, :mod:`agentdeck.core.cost`)."""
        with self._lock:
            self.spend = self.spend.plus(cost)


@dataclass(frozen=True, slots=True)
class ToolCallInfo:
    """Everything known about a tool call before it runs.

    ``agent`` is the agent whose code makes the call (the nested agent after a handoff);
    ``tool_spec`` is that agent's pinned ToolSpec for the tool (None if the spec doesn't list
    it); ``step`` is the 0-based index of this call among the run's tool calls; ``elapsed_s``
    is the time since the run started; ``span_id`` is the tool span's id (for linking);
    ``agent_error`` says why the agent the run names could not be resolved (``agent`` is then
    None): a guard that enforces policies must fail closed on it.
    """

    tool: str
    tool_version: str | None
    tool_spec: ToolSpec | None
    args: Mapping[str, Any]
    agent: ResolvedAgent | None
    env: str | None
    run: RunState
    step: int
    elapsed_s: float
    trace_id: str
    span_id: str
    agent_error: str | None = None  # why the run's named agent could not be resolved
    record_only: bool = False  # an imported call: decide and record, never ask or block


@runtime_checkable
class ToolGuard(Protocol):
    """Decides a tool call before it runs: return to allow, raise ``PolicyDenied`` to deny."""

    def check(self, call: ToolCallInfo) -> None: ...


@dataclass(frozen=True, slots=True)
class Intercepted:
    """An interceptor's answer: use ``result`` as the tool's return value; the tool is not run."""

    result: Any


@runtime_checkable
class ToolInterceptor(Protocol):
    """Serves tool calls from elsewhere (a recording, fixtures) instead of running them."""

    def intercept(self, call: ToolCallInfo) -> Intercepted | None: ...


current_interceptor: ContextVar[ToolInterceptor | None] = ContextVar(
    "agentdeck_tool_interceptor", default=None
)


@contextlib.contextmanager
def intercepting(interceptor: ToolInterceptor) -> Iterator[ToolInterceptor]:
    """Route the ``@tool`` calls made inside this block (this context only) to ``interceptor``."""
    token = current_interceptor.set(interceptor)
    try:
        yield interceptor
    finally:
        current_interceptor.reset(token)
