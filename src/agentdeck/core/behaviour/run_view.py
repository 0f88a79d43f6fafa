"""RunView: the part of a run that behavioural monitoring reads, extracted once per run.

A view is built from a :class:`~agentdeck.core.trace.model.Run` and its spans (any order; they are
sorted by ``seq``) and holds only what profiles and checks need: the tool calls in order with
digests of their arguments and responses, policy decisions, LLM calls (the model that
answered and the tools offered to it), run latency, tokens and context features. Digests are
BLAKE2b-64 of compact sorted-key JSON: stable across processes, cheap, and used only to test
equality (not as artifact identities, which use ``core.canonical.digest``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, replace
from typing import Any

import orjson

from agentdeck.core.behaviour.context_features import (
    DEFAULT_BOW_BUCKETS,
    ContextFeatures,
    extract_context,
)
from agentdeck.core.trace.conversation import timing_unknown
from agentdeck.core.trace.model import LinkKind, Outcome, Run, Span, SpanKind, SpanStatus
from agentdeck.core.types import JSON

_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _dumps(value: JSON) -> bytes:
    return orjson.dumps(value, option=_OPTS, default=str)


def value_key(value: JSON) -> str:
    """A 16-hex digest of a JSON value, independent of dict key order."""
    return hashlib.blake2b(_dumps(value), digest_size=8).hexdigest()


def _sort_lists(value: JSON) -> JSON:
    if isinstance(value, dict):
        return {k: _sort_lists(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return sorted((_sort_lists(v) for v in value), key=_dumps)
    return value


def unordered_key(value: JSON) -> str:
    """Like :func:`value_key` but blind to the order of every list inside the value: two
    responses with equal ``unordered_key`` and different ``value_key`` differ only in order."""
    return value_key(_sort_lists(value))


def shape_of(value: JSON) -> Hashable:
    """The structure of a JSON value: key sets, types and array item shapes, no values.

    genson's inferred schema depends only on the shapes of its samples, so a profile feeds
    genson one sample per distinct shape (an in-memory key: never stored).
    """
    if isinstance(value, dict):
        return tuple(sorted((str(k), shape_of(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[]", frozenset(shape_of(v) for v in value))
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return type(value).__name__


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool span, reduced to what monitoring needs."""

    span_id: str
    tool: str
    args: JSON
    args_key: str
    args_valid: bool | None
    result: JSON
    has_result: bool
    error: bool
    latency_ms: float | None  # None: the span's timing is unknown (imported without times)
    response_key: str
    response_unordered_key: str
    response_shape: Hashable = None
    agent: str | None = None  # the handed-off agent that made the call (None: the run's own)
    agent_digest: str | None = None  # that agent's digest, when it was resolved
    recovered: bool = False  # an error that a later call of the same tool got past


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """One policy span: its effect (``deny``, ``warn``, ...) and the tool it governed."""

    span_id: str
    effect: str
    tool: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class LlmCall:
    """One LLM span: the model requested and answered, and the tools offered to it."""

    span_id: str
    model: str | None
    response_model: str | None
    offered_tools: tuple[JSON, ...]


def _nested_agents(spans: list[Span]) -> dict[str, tuple[str | None, str | None]]:
    """For each span id, the handed-off agent (name, digest) whose code runs under it.

    A nested agent is an ``agent`` span with a parent (a handoff holds one); the run's own
    root agent maps to nothing. Spans are given in ``seq`` order, so a parent comes first.
    """
    parent_of = {s.span_id: s.parent_id for s in spans}
    agent_spans = {s.span_id: s for s in spans if s.kind is SpanKind.AGENT}
    out: dict[str, tuple[str | None, str | None]] = {}

    def owner(sid: str | None) -> tuple[str | None, str | None] | None:
        seen = 0
        while sid is not None and seen < 10_000:
            if sid in out:
                return out[sid]
            a = agent_spans.get(sid)
            if a is not None:
                if a.parent_id is None:
                    return None
                name = _str_or_none(a.attributes.get("agent.name")) or a.name
                return (name, _str_or_none(a.attributes.get("agent.digest")))
            sid, seen = parent_of.get(sid), seen + 1
        return None

    for s in spans:
        found = owner(s.span_id)
        if found is not None:
            out[s.span_id] = found
    return out


def _mark_recovered(calls: list[ToolCall]) -> tuple[ToolCall, ...]:
    """Mark each error that a later successful call of the same tool got past."""
    last_ok: dict[str, int] = {}
    for i, c in enumerate(calls):
        if not c.error:
            last_ok[c.tool] = i
    return tuple(
        replace(c, recovered=True) if c.error and last_ok.get(c.tool, -1) > i else c
        for i, c in enumerate(calls)
    )


def _tool_call(span: Span, owner: tuple[str | None, str | None] | None = None) -> ToolCall:
    inputs = span.inputs
    args = inputs.get("args") if isinstance(inputs, dict) else inputs
    outputs = span.outputs
    has_result = isinstance(outputs, dict) and "result" in outputs
    result = outputs["result"] if has_result else None
    valid = span.attributes.get("tool.args_valid")
    return ToolCall(
        span_id=span.span_id,
        tool=span.tool_name or span.name,
        args=args,
        args_key=value_key(args),
        args_valid=valid if isinstance(valid, bool) else None,
        result=result,
        has_result=has_result,
        error=span.status is SpanStatus.ERROR or span.error is not None,
        latency_ms=None
        if timing_unknown(span.attributes)
        else max(span.end_ns - span.start_ns, 0) / 1e6,
        response_key=value_key(result) if has_result else "",
        response_unordered_key=unordered_key(result) if has_result else "",
        response_shape=shape_of(result) if has_result else None,
        agent=owner[0] if owner else None,
        agent_digest=owner[1] if owner else None,
    )


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) else None


@dataclass(frozen=True, slots=True)
class RunView:
    """A run as behavioural monitoring sees it (see the module docstring)."""

    trace_id: str
    status: SpanStatus
    has_output: bool
    error: str | None
    tool_calls: tuple[ToolCall, ...]
    policy: tuple[PolicyDecision, ...]
    llm_calls: tuple[LlmCall, ...]
    latency_ms: float | None
    tokens: int
    context: ContextFeatures
    outcome: Outcome | None = None  # the run's outcome, when known
    outcome_score: float | None = None

    @property
    def actions(self) -> tuple[str, ...]:
        """The tool names called, in order: the run's action sequence."""
        return tuple(c.tool for c in self.tool_calls)

    @property
    def completed(self) -> bool:
        """The run's outcome when one is known (a failed conversation is not completed);
        otherwise: the run ended OK with an output."""
        if self.outcome is not None:
            return self.outcome is Outcome.SUCCESS
        return self.status is SpanStatus.OK and self.has_output

    @property
    def errored(self) -> bool:
        return self.status is SpanStatus.ERROR

    @property
    def failed_outcome(self) -> bool:
        """The run's recorded outcome is a failure."""
        return self.outcome == "failure"

    @property
    def unrecovered_errors(self) -> tuple[ToolCall, ...]:
        """Tool calls in error that no later call of the same tool got past."""
        return tuple(c for c in self.tool_calls if c.error and not c.recovered)

    @classmethod
    def from_run(
        cls, run: Run, spans: Iterable[Span], bow_buckets: int = DEFAULT_BOW_BUCKETS
    ) -> RunView:
        """Extract the view of ``run`` from its spans (sorted here by ``seq``)."""
        ordered = sorted(spans, key=lambda s: s.seq)
        owners = _nested_agents(ordered)
        tools: list[ToolCall] = []
        tool_names: dict[str, str] = {}
        policy_spans: list[Span] = []
        llms: list[LlmCall] = []
        contexts: list[JSON] = []
        tokens = 0
        for span in ordered:
            if span.usage is not None:
                tokens += span.usage.total
            if span.kind is SpanKind.TOOL:
                call = _tool_call(span, owners.get(span.parent_id or ""))
                tools.append(call)
                tool_names[span.span_id] = call.tool
            elif span.kind is SpanKind.POLICY:
                policy_spans.append(span)
            elif span.kind is SpanKind.LLM:
                inputs = span.inputs if isinstance(span.inputs, dict) else {}
                offered = inputs.get("tools")
                contexts.append(inputs.get("messages"))
                llms.append(
                    LlmCall(
                        span_id=span.span_id,
                        model=_str_or_none(span.attributes.get("llm.model")),
                        response_model=_str_or_none(span.attributes.get("llm.response_model")),
                        offered_tools=tuple(offered) if isinstance(offered, list) else (),
                    )
                )
        decisions = []
        for span in policy_spans:
            out = span.outputs if isinstance(span.outputs, dict) else {}
            governed = next(
                (
                    tool_names[lk.span_id]
                    for lk in span.links
                    if lk.kind is LinkKind.POLICY and lk.span_id in tool_names
                ),
                _str_or_none(span.attributes.get("tool.name")),
            )
            decisions.append(
                PolicyDecision(
                    span_id=span.span_id,
                    effect=str(out.get("effect", "unknown")),
                    tool=governed,
                    message=_str_or_none(out.get("message")),
                )
            )
        return cls(
            trace_id=run.trace_id,
            status=run.status,
            has_output=run.output is not None,
            error=run.error,
            tool_calls=_mark_recovered(tools),
            policy=tuple(decisions),
            llm_calls=tuple(llms),
            latency_ms=(run.end_ns - run.start_ns) / 1e6
            if run.end_ns is not None and not timing_unknown(run.attributes)
            else None,
            tokens=tokens,
            context=extract_context(
                run.input, contexts, [c.result for c in tools if c.has_result], bow_buckets
            ),
            outcome=run.outcome,
            outcome_score=run.outcome_score,
        )
