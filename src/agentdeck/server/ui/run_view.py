"""The run page's header and its offered-tool sets.

The header says what the run was asked and answered, whether and why it failed (the
root-cause analysis of :mod:`agentdeck.tracing.analysis.rca`, summarised), and what it spent:
the tokens of its model calls, and its cost when the run record carries one.

Each LLM step is offered a list of tools; most steps of a run are offered the same list. Each
distinct list (by the SHA-256 of its canonical JSON) is shown once, and each step refers to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from agentdeck.core.trace.model import Outcome, Span, SpanKind, SpanStatus
from agentdeck.tracing.analysis.queries import RunTrace
from agentdeck.tracing.analysis.rca import RcaStore, root_cause


@dataclass(frozen=True)
class ToolSet:
    """One distinct list of tools offered to the model, and how many steps were offered it."""

    number: int
    digest: str
    names: tuple[str, ...]
    tools: tuple[Any, ...]
    steps: int

    @property
    def anchor(self) -> str:
        return "tools-" + self.digest.removeprefix("sha256:")[:12]


def _tool_name(tool: Any) -> str:
    if isinstance(tool, dict):
        fn = tool.get("function")
        name = fn.get("name") if isinstance(fn, dict) else tool.get("name")
        if isinstance(name, str):
            return name
    return "?"


def _digest(value: Any) -> str:
    data = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def offered_tools(spans: tuple[Span, ...]) -> tuple[list[ToolSet], dict[str, ToolSet]]:
    """The distinct tool lists offered to the run's model calls, in order of first offer, and
    for each LLM span that was offered tools, its list."""
    order: list[str] = []
    lists: dict[str, list[Any]] = {}
    counts: dict[str, int] = {}
    of_span: dict[str, str] = {}
    for s in sorted(spans, key=lambda x: (x.start_ns, x.seq)):
        inputs = s.inputs if isinstance(s.inputs, dict) else {}
        tools = inputs.get("tools") if s.kind is SpanKind.LLM else None
        if not isinstance(tools, list) or not tools:
            continue
        d = _digest(tools)
        if d not in lists:
            order.append(d)
            lists[d] = tools
        counts[d] = counts.get(d, 0) + 1
        of_span[s.span_id] = d
    sets = {
        d: ToolSet(i + 1, d, tuple(_tool_name(t) for t in lists[d]), tuple(lists[d]), counts[d])
        for i, d in enumerate(order)
    }
    return [sets[d] for d in order], {sid: sets[d] for sid, d in of_span.items()}


@dataclass(frozen=True)
class RcaSummary:
    """The root-cause analysis in a few lines: the failure, the cause and its path, or how a
    failed outcome differs from the baseline."""

    failure: Span
    cause: Span | None
    why: str | None
    detail: str | None
    path: tuple[Span, ...]
    differences: tuple[str, ...]
    recovered: tuple[Span, ...]


@dataclass(frozen=True)
class RunHeader:
    input: Any
    output: Any
    error: str | None
    failed: bool
    rca: RcaSummary | None
    llm_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def _failed(trace: RunTrace) -> bool:
    run = trace.run
    if run is not None and (
        run.status is SpanStatus.ERROR or run.tool_errors or run.outcome is Outcome.FAILURE
    ):
        return True
    return any(s.failed for s in trace.spans)


def _rca(store: RcaStore, trace: RunTrace) -> RcaSummary | None:
    rc = root_cause(store, trace.trace_id)
    if rc is None:
        return None
    cause = rc.cause
    return RcaSummary(
        failure=rc.failure,
        cause=cause.span if cause else None,
        why=cause.why.value if cause else None,
        detail=cause.detail if cause else None,
        path=tuple(p.span for p in rc.path),
        differences=rc.differences,
        recovered=tuple(b.span for b in rc.recovered),
    )


def run_header(store: RcaStore, trace: RunTrace) -> RunHeader:
    """The header of a run's page; the root cause only for a run that went wrong."""
    run = trace.run
    root = trace.roots[0].span if trace.roots else None
    llm = [s for s in trace.spans if s.kind is SpanKind.LLM]
    failed = _failed(trace)
    cost = getattr(run, "cost_usd", None)
    return RunHeader(
        input=run.input if run is not None and run.input is not None else (root and root.inputs),
        output=run.output
        if run is not None and run.output is not None
        else (root and root.outputs),
        error=(run.error if run is not None else None) or (root.error if root else None),
        failed=failed,
        rca=_rca(store, trace) if failed else None,
        llm_calls=len(llm),
        input_tokens=sum(s.usage.input_tokens for s in llm if s.usage),
        output_tokens=sum(s.usage.output_tokens for s in llm if s.usage),
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
    )


@dataclass(frozen=True)
class SharedContext:
    """An LLM step's context window starts with the messages of an earlier step's: the first
    ``count`` messages are those of step ``span_id`` (``seq``)."""

    span_id: str
    seq: int
    count: int


def shared_context(spans: tuple[Span, ...]) -> dict[str, SharedContext]:
    """For each LLM step whose context window repeats the previous model call's (same parent),
    how many leading messages it shares with it."""
    previous: dict[str | None, tuple[Span, list[Any]]] = {}
    out: dict[str, SharedContext] = {}
    for s in sorted(spans, key=lambda x: (x.start_ns, x.seq)):
        if s.kind is not SpanKind.LLM:
            continue
        inputs = s.inputs if isinstance(s.inputs, dict) else {}
        messages = inputs.get("messages")
        if not isinstance(messages, list):
            continue
        before = previous.get(s.parent_id)
        if before is not None:
            n = 0
            for a, b in zip(before[1], messages, strict=False):
                if a != b:
                    break
                n += 1
            if n:
                out[s.span_id] = SharedContext(before[0].span_id, before[0].seq, n)
        previous[s.parent_id] = (s, messages)
    return out
