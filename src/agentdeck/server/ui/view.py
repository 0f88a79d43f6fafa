"""Presentation helpers for the UI pages: the waterfall, step details, a side-by-side diff."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.tracing.analysis.queries import RunTrace, SpanNode


@dataclass(frozen=True)
class WaterfallRow:
    span: Span
    depth: int
    left_pct: float
    width_pct: float
    ms: float


def waterfall(trace: RunTrace) -> list[WaterfallRow]:
    """Spans in tree order with their offset and width as percentages of the run's span."""
    if not trace.spans:
        return []
    start = min(s.start_ns for s in trace.spans)
    end = max(s.end_ns for s in trace.spans)
    total = max(end - start, 1)
    rows: list[WaterfallRow] = []

    def walk(node: SpanNode, depth: int) -> None:
        s = node.span
        rows.append(
            WaterfallRow(
                s,
                depth,
                round(100 * (s.start_ns - start) / total, 3),
                max(round(100 * s.duration_ns / total, 3), 0.3),
                s.duration_ns / 1e6,
            )
        )
        for child in node.children:
            walk(child, depth + 1)

    for root in trace.roots:
        walk(root, 0)
    return rows


@dataclass(frozen=True)
class StepDetail:
    """What a step's panel shows: the context window, arguments and response, by kind."""

    span: Span
    messages: list[dict[str, Any]]
    offered_tools: list[Any]
    args: Any
    response: Any
    decision: dict[str, Any] | None


def step_detail(s: Span) -> StepDetail:
    inputs = s.inputs if isinstance(s.inputs, dict) else {}
    outputs = s.outputs if isinstance(s.outputs, dict) else {}
    messages: list[dict[str, Any]] = []
    tools: list[Any] = []
    args: Any = None
    response: Any = None
    decision: dict[str, Any] | None = None
    if s.kind is SpanKind.LLM:
        raw = inputs.get("messages") or []
        messages = [m if isinstance(m, dict) else {"role": "?", "content": m} for m in raw]
        tools = list(inputs.get("tools") or [])
        response = outputs.get("message", s.outputs)
    elif s.kind is SpanKind.TOOL:
        args = inputs.get("args", s.inputs)
        response = outputs.get("result", s.outputs)
    elif s.kind is SpanKind.POLICY:
        decision = outputs or None
        args = s.inputs
    else:
        args = s.inputs
        response = s.outputs
    return StepDetail(s, messages, tools, args, response, decision)


@dataclass(frozen=True)
class DiffRow:
    """One line pair of a side-by-side text diff; ``kind`` is equal, replace, delete or insert."""

    kind: str
    left_no: int | None
    left: str
    right_no: int | None
    right: str


def side_by_side(a: str, b: str) -> list[DiffRow]:
    left, right = a.splitlines(), b.splitlines()
    rows: list[DiffRow] = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            li, rj = i1 + k, j1 + k
            rows.append(
                DiffRow(
                    tag,
                    li + 1 if li < i2 else None,
                    left[li] if li < i2 else "",
                    rj + 1 if rj < j2 else None,
                    right[rj] if rj < j2 else "",
                )
            )
    return rows
