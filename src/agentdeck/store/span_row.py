"""A stored ``spans`` row as a :class:`Span`: one conversion for the SQL store, the ClickHouse
store and the CLI's SQLite read path (:mod:`.lite_traces`); no SQLAlchemy."""

from __future__ import annotations

from typing import Any

import orjson

from agentdeck.core.trace.model import LinkKind, Span, SpanKind, SpanLink, SpanStatus, TokenUsage

__all__ = ["row_span"]


def _l(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def row_span(r: Any) -> Span:
    """``r``: any row whose columns are attributes (a SQLAlchemy ``Row``, a namespace)."""
    usage = _l(r.usage)
    return Span(
        trace_id=r.trace_id,
        span_id=r.span_id,
        parent_id=r.parent_id,
        name=r.name,
        kind=SpanKind(r.kind),
        start_ns=int(r.start_ns),
        end_ns=int(r.end_ns),
        seq=int(r.seq),
        status=SpanStatus(r.status),
        error=r.error,
        inputs=_l(r.inputs),
        outputs=_l(r.outputs),
        attributes=_l(r.attributes) or {},
        links=tuple(SpanLink(t, sid, LinkKind(k)) for t, sid, k in (_l(r.links) or [])),
        usage=TokenUsage(*usage) if usage else None,
        cost_usd=None if r.cost_usd is None else float(r.cost_usd),
    )
