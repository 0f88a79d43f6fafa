"""Root-cause analysis over an execution graph.

Starting from the failing span (the last span in error, else the last span), walk *upstream*
and name the earliest span whose output was bad, with the path along which it spread.

What flows into a span (its upstream edges):

- its **data-flow links** (``SpanLink``): it consumed the linked span's output, possibly in
  another agent or another trace;
- its **parent**: a parent's inputs and context are handed down to its children;
- its **earlier siblings** (same parent, lower ``seq``), unless it has explicit links: within
  one agent, every step sees the results of the steps before it through the context window;
- for a span reached as a *producer* (through a link), its **children**: a composite span's
  output is made by its children.

A span is bad when it ended in error, its tool arguments were invalid, a policy denied it, or
its response did not match the tool's pinned output schema (checked by a caller-supplied
function, since schemas live with the agent's spec).

A tool error that a later call of the same tool got past (that call ended OK) is
**recovered**: it is listed in ``RootCause.recovered``, never chosen as the failure or its
cause. A run that failed without any bad span (a failed outcome, nothing errored) is
explained by what it did differently from the baseline (``RootCause.differences``, filled by
:mod:`agentdeck.tracing.analysis.rca`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus


class Badness(StrEnum):
    ERROR = "error"
    INVALID_ARGS = "invalid_args"
    POLICY_DENIED = "policy_denied"
    SCHEMA_MISMATCH = "output_schema_mismatch"


class EdgeKind(StrEnum):
    LINK = "data-flow link"
    PARENT = "parent context"
    SIBLING = "earlier step"
    CHILD = "produced by child"


OutputCheck = Callable[[Span], str | None]
"""Returns why a span's output does not match its pinned schema, or None."""


@dataclass(frozen=True)
class BadSpan:
    span: Span
    why: Badness
    detail: str


@dataclass(frozen=True)
class PathStep:
    span: Span
    edge: EdgeKind | None  # how the *next* step (towards the failure) was reached from this one


@dataclass(frozen=True)
class RootCause:
    failure: Span
    cause: BadSpan | None
    path: tuple[PathStep, ...]  # from the cause to the failure
    bad_spans: tuple[BadSpan, ...]  # every bad span upstream of the failure, earliest first
    recovered: tuple[BadSpan, ...] = ()  # errors (anywhere) a later call of the tool got past
    differences: tuple[str, ...] = ()  # a failed outcome: how the run differs from baseline


def why_bad(span: Span, output_check: OutputCheck | None = None) -> BadSpan | None:
    attrs = span.attributes
    if (
        span.kind is SpanKind.POLICY
        and isinstance(span.outputs, dict)
        and span.outputs.get("effect") == "deny"
    ):
        return BadSpan(
            span, Badness.POLICY_DENIED, str(span.outputs.get("message") or "denied by policy")
        )
    if attrs.get("policy.denied"):
        return BadSpan(
            span, Badness.POLICY_DENIED, str(attrs.get("policy.message") or "denied by policy")
        )
    if attrs.get("tool.args_valid") is False:
        errs = attrs.get("tool.args_errors") or []
        return BadSpan(
            span,
            Badness.INVALID_ARGS,
            "; ".join(map(str, errs)) or "arguments do not match the input schema",
        )
    if (
        output_check is not None
        and span.kind is SpanKind.TOOL
        and span.status is not SpanStatus.ERROR
    ):
        problem = output_check(span)
        if problem:
            return BadSpan(span, Badness.SCHEMA_MISMATCH, problem)
    if attrs.get("tool.output_valid") is False:
        return BadSpan(
            span,
            Badness.SCHEMA_MISMATCH,
            str(attrs.get("tool.output_errors") or "response does not match the output schema"),
        )
    if span.status is SpanStatus.ERROR:
        return BadSpan(span, Badness.ERROR, span.error or "error")
    return None


def _order_key(s: Span) -> tuple[int, int]:
    return (s.start_ns, s.seq)


def recovered_errors(spans: Iterable[Span]) -> frozenset[str]:
    """Ids of tool spans in error followed (later start) by an OK call of the same tool in
    the same trace."""
    last_ok: dict[tuple[str, str], tuple[int, int]] = {}
    tools = [s for s in spans if s.kind is SpanKind.TOOL and s.tool_name is not None]
    for s in tools:
        if s.status is not SpanStatus.ERROR:
            key = (s.trace_id, s.tool_name or "")
            last_ok[key] = max(last_ok.get(key, (-1, -1)), _order_key(s))
    return frozenset(
        s.span_id
        for s in tools
        if s.status is SpanStatus.ERROR
        and last_ok.get((s.trace_id, s.tool_name or ""), (-1, -1)) > _order_key(s)
    )


def failing_span(spans: Iterable[Span]) -> Span | None:
    """The span to explain: the last (deepest-ending) unrecovered error, else the last span."""
    ordered = sorted(spans, key=lambda s: (s.end_ns, s.seq))
    if not ordered:
        return None
    recovered = recovered_errors(ordered)
    errors = [s for s in ordered if s.status is SpanStatus.ERROR and s.span_id not in recovered]
    if errors:
        # the deepest error that ended last: a leaf's error propagates up to its parents
        parents_of_errors = {s.parent_id for s in errors}
        leaves = [s for s in errors if s.span_id not in parents_of_errors]
        return leaves[-1]
    return ordered[-1]


def analyze(
    spans: Iterable[Span], start: Span | None = None, output_check: OutputCheck | None = None
) -> RootCause | None:
    """Walk upstream from ``start`` (default :func:`failing_span`) over ``spans``."""
    all_spans = list(spans)
    by_id = {s.span_id: s for s in all_spans}
    children: dict[str | None, list[Span]] = {}
    for s in all_spans:
        children.setdefault(s.parent_id, []).append(s)
    for kids in children.values():
        kids.sort(key=lambda s: (s.seq, s.start_ns))
    failure = start or failing_span(all_spans)
    if failure is None:
        return None

    def upstream(s: Span, as_producer: bool) -> list[tuple[Span, EdgeKind, bool]]:
        out: list[tuple[Span, EdgeKind, bool]] = []
        for link in s.links:
            target = by_id.get(link.span_id)
            if target is not None:
                out.append((target, EdgeKind.LINK, True))
        if as_producer:
            for kid in children.get(s.span_id, []):
                out.append((kid, EdgeKind.CHILD, True))
        if s.parent_id is not None:
            parent = by_id.get(s.parent_id)
            if parent is not None:
                out.append((parent, EdgeKind.PARENT, False))
                # explicit data-flow links, when a span has any, replace the implicit
                # "earlier steps" assumption: the span declared where its data came from
                for sib in [] if s.links else children.get(s.parent_id, []):
                    if sib.span_id != s.span_id and _order_key(sib) < _order_key(s):
                        out.append((sib, EdgeKind.SIBLING, True))
        return out

    # BFS upstream; remember how each node was reached (towards the failure)
    reached_from: dict[str, tuple[str, EdgeKind] | None] = {failure.span_id: None}
    queue: deque[tuple[Span, bool]] = deque([(failure, False)])
    while queue:
        node, as_producer = queue.popleft()
        for up, edge, producer in upstream(node, as_producer):
            if up.span_id in reached_from:
                continue
            reached_from[up.span_id] = (node.span_id, edge)
            queue.append((up, producer))

    recovered_ids = recovered_errors(all_spans)
    found = [b for sid in reached_from if (b := why_bad(by_id[sid], output_check)) is not None]
    found.sort(key=lambda b: _order_key(b.span))
    bad = [b for b in found if b.span.span_id not in recovered_ids]
    recovered = tuple(
        sorted(
            (b for sid in recovered_ids if (b := why_bad(by_id[sid], output_check)) is not None),
            key=lambda b: _order_key(b.span),
        )
    )
    # prefer the earliest bad *leaf-level* span: an agent span in error because its child erred
    cause = None
    for b in bad:
        if b.span.kind in (SpanKind.AGENT, SpanKind.HANDOFF, SpanKind.CUSTOM) and any(
            x.span.parent_id == b.span.span_id for x in bad
        ):
            continue
        cause = b
        break
    if cause is None and bad:
        cause = bad[0]
    path: list[PathStep] = []
    if cause is not None:
        sid: str | None = cause.span.span_id
        while sid is not None:
            step = reached_from[sid]
            path.append(PathStep(by_id[sid], step[1] if step else None))
            sid = step[0] if step else None
    return RootCause(failure, cause, tuple(path), tuple(bad), recovered)
