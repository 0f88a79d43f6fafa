"""The trace model: a Run is one execution of an agent; a Span is one step inside it.

Ids follow W3C trace context: a run's ``trace_id`` is 32 lowercase hex digits, a span's
``span_id`` 16. Spans nest by ``parent_id``; ``links`` record data flow (this span consumed
the output of the linked span), possibly across agents and traces. ``seq`` orders the spans of
a run as they started (the order replay serves recorded responses in).

Values here are plain frozen dataclasses; ``inputs``/``outputs``/``attributes`` hold JSON data.

A run whose ``attributes`` hold :data:`PROVISIONAL` set to ``true`` is *provisional*: the
server derived it from child spans alone (an OpenTelemetry trace whose root span has not
arrived, or never will), so that the trace is listed, monitored and analysed like any run.
Its time range and status widen as more of the trace's spans arrive, and the run derived from
the real root (or agentdeck's run stamp) replaces it whole; a run without the marker is never
overwritten by ingest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum

from agentdeck.core.types import JSON

PROVISIONAL = "agentdeck.run.provisional"
"""Run attribute marking a run derived from child spans only, to be replaced by the real one."""


class SpanKind(StrEnum):
    AGENT = "agent"
    LLM = "llm"
    TOOL = "tool"
    RETRIEVAL = "retrieval"
    HANDOFF = "handoff"
    POLICY = "policy"
    GUARDRAIL = "guardrail"
    EVAL = "eval"
    CUSTOM = "custom"


class SpanStatus(StrEnum):
    UNSET = "unset"
    OK = "ok"
    ERROR = "error"


class Outcome(StrEnum):
    """Whether a run achieved what it was for, when someone knows (the agent, a user, a check)."""

    SUCCESS = "success"
    FAILURE = "failure"


class LinkKind(StrEnum):
    DATA = "data"  # this span consumed the linked span's output
    POLICY = "policy"  # a policy decision span linked to the tool span it governed
    FOLLOWS = "follows"  # causal, no data (e.g. a handoff target)


def new_trace_id() -> str:
    """A random W3C trace id: 32 lowercase hex digits, never all zero."""
    while True:
        tid = os.urandom(16).hex()
        if tid != "0" * 32:
            return tid


def new_span_id() -> str:
    """A random W3C span id: 16 lowercase hex digits, never all zero."""
    while True:
        sid = os.urandom(8).hex()
        if sid != "0" * 16:
            return sid


def is_trace_id(value: str) -> bool:
    return len(value) == 32 and value != "0" * 32 and all(c in "0123456789abcdef" for c in value)


def is_span_id(value: str) -> bool:
    return len(value) == 16 and value != "0" * 16 and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A directed edge from the span holding it to ``span_id`` (in ``trace_id``)."""

    trace_id: str
    span_id: str
    kind: LinkKind = LinkKind.DATA


@dataclass(frozen=True, slots=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True)
class Span:
    """One step of a run.

    Conventions for ``inputs``/``outputs``/``attributes`` by kind:

    - ``tool``: inputs ``{"args": {...}}``; outputs ``{"result": ...}``; attributes
      ``tool.name``, ``tool.version``, ``tool.call_id``, ``tool.args_valid`` (bool),
      ``tool.args_errors`` (list of str), ``tool.output_valid`` (bool, when checked).
    - ``llm``: inputs ``{"messages": [...], "tools": [...]}``; outputs ``{"message": {...}}``
      (role, content, tool_calls); attributes ``llm.provider``, ``llm.model``
      (requested), ``llm.response_model`` (answered), ``llm.params``.
    - ``agent``: attributes ``agent.name``, ``agent.version``, ``agent.digest``.
    - ``handoff``: attributes ``handoff.from``, ``handoff.to``.
    - ``policy``: outputs ``{"effect": ..., "rules": [...], "message": ...}``; attributes
      ``policy.name``, ``policy.version``, ``policy.digest``.
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: SpanKind
    start_ns: int
    end_ns: int
    seq: int = 0
    status: SpanStatus = SpanStatus.UNSET
    error: str | None = None
    inputs: JSON = None
    outputs: JSON = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    links: tuple[SpanLink, ...] = ()
    usage: TokenUsage | None = None
    cost_usd: float | None = None
    """USD of an LLM call, priced by the store at ingest (``None``: not priced, or unknown
    model); producers do not send it."""

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns

    @property
    def tool_name(self) -> str | None:
        v = self.attributes.get("tool.name")
        return v if isinstance(v, str) else (self.name if self.kind is SpanKind.TOOL else None)

    @property
    def denied(self) -> bool:
        """A tool call a policy denied (the tool did not run)."""
        return self.kind is SpanKind.TOOL and self.attributes.get("tool.denied") is True

    @property
    def failed(self) -> bool:
        """The step went wrong: it raised, or it is an eval whose check did not pass."""
        return self.status is SpanStatus.ERROR or (
            self.kind is SpanKind.EVAL and self.attributes.get("eval.passed") is False
        )


@dataclass(frozen=True, slots=True)
class Run:
    """One execution of an agent, stamped with exactly what ran, and what happened.

    ``status`` says whether the run raised (``error``) or not (``ok``). ``tool_errors`` counts
    its tool calls that failed, for any reason, and ``denied_calls`` those of them a policy
    denied (the tool did not run); the store counts both from the run's spans as they arrive, so a run
    written by any producer (SDK, OTLP) gets them. ``outcome`` is whether the run achieved
    its purpose, when known (``run.set_outcome(...)`` in the SDK), with an optional
    ``outcome_score`` and ``outcome_reason``. ``session_id`` and ``user_id`` group runs by
    conversation and by end user: given to ``agentdeck.run(...)``, or read from a producer's
    ``session.id`` / ``gen_ai.conversation.id`` / ``user.id`` / ``enduser.id`` on any span.
    """

    trace_id: str
    agent_name: str | None
    agent_version: int | None
    agent_digest: str | None
    env: str | None
    deployment_id: str | None
    start_ns: int
    end_ns: int | None = None
    status: SpanStatus = SpanStatus.UNSET
    error: str | None = None
    input: JSON = None
    output: JSON = None
    root_span_id: str | None = None
    attributes: dict[str, JSON] = field(default_factory=dict)
    tool_errors: int = 0
    denied_calls: int = 0
    outcome: Outcome | None = None
    outcome_score: float | None = None
    outcome_reason: str | None = None
    session_id: str | None = None
    user_id: str | None = None
    canary_arm: str | None = None  # stable | candidate, while a canary ran on its env
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = 0.0
    unpriced_calls: int = 0
    """Tokens and cost (USD) summed over the run's LLM calls by the store at ingest
    (:mod:`agentdeck.core.cost`); ``cost_usd`` is ``None`` when no call was priced and
    ``unpriced_calls`` counts calls whose model has no known price (their cost is left out)."""
    project: str = "default"
    """The project that owns the run (:mod:`agentdeck.registry.projects`): set by the store at
    ingest from the ingesting key's project, never changed afterwards."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def provisional(self) -> bool:
        """Derived from child spans only, until the trace's root (or run stamp) arrives."""
        return self.attributes.get(PROVISIONAL) is True
