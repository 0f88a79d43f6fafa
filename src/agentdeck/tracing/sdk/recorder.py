"""The recorder: the current span in a contextvar, span handles, and spans finished as raw tuples.

One ``ContextVar`` holds the current :class:`SpanHandle`; the handle points at its
:class:`Scope` (the agent whose code is running, with its pinned tool table) and the scope at
its :class:`RunRecord` (trace id, ``seq`` counter, guard history). Contextvars make nesting
correct under threads (each thread starts empty) and asyncio (each task copies its parent's
context), so spans of concurrent runs never mix.

Every user value a span records (arguments, results, message lists, params, inputs, outputs,
attributes) is captured on the agent's thread when it is given, with
:func:`agentdeck.tracing.sdk.wire.capture` (a copy of small flat values, JSON bytes for the rest):
an agent that changes a dict after the call cannot change the trace. A finished span then
leaves the agent's thread as a pending record (``to_span()``) and the exporter's thread builds
the frozen :class:`Span`, keeping the captured bytes as they are (they are parsed only for a
sink that wants JSON data: :mod:`agentdeck.core.trace.raw_json`).

``config`` is the SDK's one configured client (set by ``agentdeck.init``); while it is None
every recording entry point is a cheap pass-through.
"""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime
from itertools import count
from typing import Any, Protocol

from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.trace.model import (
    LinkKind,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)
from agentdeck.registry.resolver import ResolveTimeout
from agentdeck.tracing.sdk.exporter import Exporter
from agentdeck.tracing.sdk.fanout import FanOut
from agentdeck.tracing.sdk.guard import RunState, ToolCallInfo, ToolGuard
from agentdeck.tracing.sdk.traceparent import RemoteContext
from agentdeck.tracing.sdk.validation import ToolEntry, tools_for
from agentdeck.tracing.sdk.wire import capture, capture_map

log = logging.getLogger("agentdeck.tracing")
time_ns = time.time_ns
_getrandbits = random.getrandbits  # reseeded in forked children by the random module


class AgentResolver(Protocol):
    """Resolves ``name@N``, ``name@sha256:...`` or ``name@env`` to the exact artifact."""

    def resolve(self, ref: str) -> ResolvedAgent: ...


@dataclass(frozen=True, slots=True)
class Config:
    """What ``agentdeck.init`` configured."""

    exporter: Exporter | FanOut
    resolver: AgentResolver | None
    env: str | None
    raise_invalid_args: bool
    guard: ToolGuard | None
    on_unresolved: str = "deny"  # what guards do when a run's agent cannot be resolved
    redact_value: Callable[[Any], Any] | None = None  # masks a value as exported spans are


config: Config | None = None
_internal_errors = 0
init_error: str | None = None  # why the last agentdeck.init failed (set by agentdeck.init)
_resolve_errors = 0


def internal_error(where: str, exc: BaseException) -> None:
    """A bug in telemetry: count it, log the first few, never raise."""
    global _internal_errors
    _internal_errors += 1
    if _internal_errors <= 5:
        log.warning("agentdeck: telemetry error in %s: %s: %s", where, type(exc).__name__, exc)


def internal_errors() -> int:
    return _internal_errors


def resolve_errors() -> int:
    """Runs whose named agent could not be resolved since the process started."""
    return _resolve_errors


def new_span_id() -> str:
    n = _getrandbits(64)
    while not n:
        n = _getrandbits(64)
    return f"{n:016x}"


def new_trace_id() -> str:
    n = _getrandbits(128)
    while not n:
        n = _getrandbits(128)
    return f"{n:032x}"


def describe_error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


# -- runs, scopes, handles -----------------------------------------------------------------


class RunRecord:
    """Per-run mutable state shared by the run's spans (thread- and task-safe by construction)."""

    __slots__ = ("fresh_results", "pending_calls", "seq", "state", "tool_steps", "trace_id")

    def __init__(self, trace_id: str) -> None:
        self.trace_id = trace_id
        self.seq = count()  # next() is atomic under the GIL
        self.tool_steps = count()
        self.state = RunState(time.monotonic())
        # Automatic data-flow links: tool calls the last LLM response asked for (name ->
        # [(llm span id, call id)]), and tool spans whose results the next LLM call consumes.
        self.pending_calls: dict[str, list[tuple[str, str]]] = {}
        self.fresh_results: deque[str] = deque(maxlen=64)


class Scope:
    """The agent whose code is running: set by a run, a nested run, or a handoff."""

    __slots__ = ("agent", "env", "handle", "resolve_error", "run", "span_id", "stamp", "tools")

    def __init__(
        self, run: RunRecord, agent: ResolvedAgent | None, env: str | None, span_id: str,
        resolve_error: str | None = None, stamp: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.run = run
        self.agent = agent
        self.env = env
        self.span_id = span_id
        self.handle: SpanHandle | None = None  # the agent span's handle (a RunHandle)
        self.tools: dict[str, ToolEntry] = tools_for(agent) if agent is not None else {}
        # Why the named agent could not be resolved (guards fail closed on it), and the
        # attributes every span of this agent carries (resolution error, cache use, opt-out).
        self.resolve_error = resolve_error
        self.stamp = stamp


class SpanHandle:
    """An open (or finished) span: link it, annotate it, give it an output.

    Handles stay valid as link targets after their span ends. A handle whose ``recording`` is
    False (no ``init``, or outside any run) accepts every call and records nothing.
    """

    __slots__ = ("_output", "attrs", "kind", "links", "name", "output_data", "scope", "span_id",
                 "trace_id")  # fmt: skip

    def __init__(
        self, trace_id: str, span_id: str, name: str, kind: SpanKind, scope: Scope | None
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.name = name
        self.kind = kind
        self.scope = scope
        self.links: list[SpanLink] | None = None
        self.attrs: dict[str, Any] | None = (  # values captured when set
            dict(scope.stamp) if scope is not None and scope.stamp else None
        )
        self._output: Any = None
        self.output_data: Any = None  # the output as captured when it was set

    @property
    def recording(self) -> bool:
        return self.scope is not None

    def link(self, other: Any, kind: LinkKind | str = LinkKind.DATA) -> None:
        """Record that this span consumed ``other``'s output (a handle, SpanLink, remote context)."""
        if isinstance(other, SpanLink):
            lk = other
        elif isinstance(other, SpanHandle | RemoteContext):
            if not other.span_id:
                return  # a non-recording handle
            lk = SpanLink(other.trace_id, other.span_id, LinkKind(kind))
        elif isinstance(other, tuple) and len(other) == 2:
            lk = SpanLink(str(other[0]), str(other[1]), LinkKind(kind))
        else:
            raise TypeError(f"span.link: cannot link to {type(other).__name__}")
        if self.links is None:
            self.links = []
        self.links.append(lk)

    def set_attribute(self, key: str, value: Any) -> None:
        """Record an attribute: ``value`` is captured now (later changes to it are not seen)."""
        if self.scope is None:
            return  # not recording: nothing to capture
        if self.attrs is None:
            self.attrs = {}
        self.attrs[key] = capture(value)

    @property
    def output(self) -> Any:
        """The output as given (the live object; the trace holds its value at that time)."""
        return self._output

    @output.setter
    def output(self, value: Any) -> None:
        self._output = value
        if self.scope is not None:  # not recording: no capture cost
            self.output_data = capture(value)

    def set_output(self, value: Any) -> None:
        """Record the span's output: ``value`` is captured now."""
        self.output = value

    def __repr__(self) -> str:
        return f"<span {self.kind.value} {self.name!r} {self.trace_id}/{self.span_id}>"


class ReplayedCall(SpanHandle):
    """The current span while a recorded tool call (an import) is decided in record-only mode:
    spans a guard emits for it (:func:`emit_linked_span`) take the call's own time, and their
    outputs (``effect``, ``rules``...) are kept in ``decisions``."""

    __slots__ = ("decisions", "end_ns", "start_ns")

    def __init__(self, trace_id: str, span_id: str, name: str, scope: Scope, start_ns: int,
                 end_ns: int) -> None:  # fmt: skip
        super().__init__(trace_id, span_id, name, SpanKind.TOOL, scope)
        self.start_ns, self.end_ns = start_ns, end_ns
        self.decisions: list[dict[str, Any]] = []


current: ContextVar[SpanHandle | None] = ContextVar("agentdeck_current_span", default=None)


def reset(token: Token[SpanHandle | None], previous: SpanHandle | None) -> None:
    """Restore the current span; tolerate exit in another context than enter."""
    try:
        current.reset(token)
    except ValueError:
        current.set(previous)


# -- finishing spans (values captured already; built in the exporter's thread) ----------------

# payload: trace_id, span_id, parent_id, name, kind, start, end, seq, status, error,
#          inputs, outputs, attributes, links, usage
SpanPayload = tuple[
    str, str, "str | None", str, SpanKind, int, int, int, SpanStatus, "str | None",
    Any, Any, "dict[str, Any]", "list[SpanLink] | None", "TokenUsage | None",
]  # fmt: skip


class PendingSpan:
    """A finished context-managed span, built into a :class:`Span` by the exporter's thread."""

    __slots__ = ("payload",)

    def __init__(self, payload: SpanPayload) -> None:
        self.payload = payload

    def to_span(self) -> Span:
        return build_span(self.payload)


def build_span(p: SpanPayload) -> Span:
    return Span(  # positional, in Span's field order: one per span, in the exporter's thread
        p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9],
        p[10], p[11], p[12],  # captured already: JSON data or Frozen bytes, kept as they are
        tuple(p[13]) if p[13] else (), p[14],
    )  # fmt: skip


def finish(
    cfg: Config,
    h: SpanHandle,
    parent_id: str | None,
    seq: int,
    start: int,
    exc: BaseException | None,
    inputs: Any,
    outputs: Any,
    attrs: dict[str, Any],
    usage: TokenUsage | None = None,
) -> None:
    """Submit a context-managed span (agent, handoff, llm, custom) that just ended.

    ``inputs``, ``outputs`` and ``attrs`` hold values already captured (see :func:`capture`).
    """
    if h.attrs:
        attrs.update(h.attrs)
    if exc is not None:
        attrs["error.type"] = type(exc).__qualname__
    status = SpanStatus.ERROR if exc is not None else SpanStatus.OK
    err = describe_error(exc) if exc is not None else None
    payload: SpanPayload = (
        h.trace_id, h.span_id, parent_id, h.name, h.kind, start, time_ns(), seq, status, err,
        inputs, outputs, attrs, h.links, usage,
    )  # fmt: skip
    cfg.exporter.submit(PendingSpan(payload))


def emit_linked_span(
    call: ToolCallInfo,
    *,
    name: str,
    start_ns: int,
    end_ns: int,
    kind: SpanKind = SpanKind.POLICY,
    inputs: Any = None,
    outputs: Any = None,
    attributes: Mapping[str, Any] | None = None,
    status: SpanStatus = SpanStatus.OK,
    error: str | None = None,
    link_kind: LinkKind = LinkKind.POLICY,
) -> str | None:
    """Record a finished span (e.g. a policy decision) as a child of, and linked to, a tool span.

    For guards: call it from ``ToolGuard.check``. Returns the new span id (None if not
    recording). ``inputs``, ``outputs`` and ``attributes`` are captured now. Never raises.
    """
    cfg = config
    if cfg is None:
        return None
    try:
        cur = current.get()
        seq = next(cur.scope.run.seq) if cur is not None and cur.scope is not None else 0
        if isinstance(cur, ReplayedCall):  # a call imported from history: its time, its tally
            start_ns, end_ns = cur.start_ns, cur.end_ns
            cur.decisions.append(dict(outputs) if isinstance(outputs, Mapping) else {})
        sid = new_span_id()
        links = [SpanLink(call.trace_id, call.span_id, link_kind)]
        attrs = dict(cur.scope.stamp) if cur is not None and cur.scope and cur.scope.stamp else {}
        attrs.update(attributes or {})
        payload: SpanPayload = (
            call.trace_id, sid, call.span_id, name, kind, start_ns, end_ns, seq, status, error,
            capture(inputs), capture(outputs), capture_map(attrs), links, None,
        )  # fmt: skip
        cfg.exporter.submit(PendingSpan(payload))
        return sid
    except Exception as exc:
        internal_error("emit_linked_span", exc)
        return None


# -- resolution ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgentResolution:
    """What a run's ``agent=`` came to: the agent, or why a named one could not be resolved
    (``error`` starts with the kind: unknown reference, timeout, store or server unreachable,
    no resolver); ``cached_at`` is set when the spec came from a cache the source could not
    confirm."""

    agent: ResolvedAgent | None
    error: str | None = None
    cached_at: datetime | None = None

    def stamp(self, on_unresolved: str) -> dict[str, Any] | None:
        """The attributes every span of the run carries about its resolution (None: none)."""
        out: dict[str, Any] = {}
        if self.error is not None:
            out["agentdeck.resolve.error"] = self.error
            out["agentdeck.policy.on_unresolved"] = on_unresolved
        if self.cached_at is not None:
            out["agentdeck.resolve.source"] = "cache"
            out["agentdeck.resolve.cached_at"] = self.cached_at.isoformat()
        return out or None


def resolve_agent(agent: str | AgentSpec | ResolvedAgent | None, cfg: Config) -> AgentResolution:
    """Resolve a run's ``agent=``; never raises (a failure is in ``error``)."""
    global _resolve_errors
    if agent is None or isinstance(agent, ResolvedAgent):
        return AgentResolution(agent)
    if isinstance(agent, AgentSpec):
        # Not registered: version 0 marks "no registry version" (stamped as None on the run).
        return AgentResolution(ResolvedAgent(agent.name, 0, agent.digest, agent, env=cfg.env))
    resolver = cfg.resolver
    try:
        if resolver is None:
            raise _NoResolver("no resolver configured (agentdeck.init(resolver=...))")
        detailed = getattr(resolver, "resolve_detailed", None)
        if detailed is not None:
            res = detailed(agent)
            return AgentResolution(res.agent, None, res.cached_at)
        return AgentResolution(resolver.resolve(agent))
    except Exception as exc:
        _resolve_errors += 1
        return AgentResolution(None, f"{_error_kind(exc)}: {describe_error(exc)}")


class _NoResolver(Exception):
    pass


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, UnresolvedReferenceError):
        return "unknown reference"
    if isinstance(exc, ResolveTimeout | TimeoutError):
        return "timeout"
    if isinstance(exc, _NoResolver):
        return "no resolver"
    return "store or server unreachable"


def resolve(
    agent: str | AgentSpec | ResolvedAgent | None, cfg: Config
) -> tuple[ResolvedAgent | None, str | None]:
    """The agent to stamp, and why resolution failed (a warning, never an exception)."""
    res = resolve_agent(agent, cfg)
    return res.agent, res.error
