"""Context windows put back on read, without SQLAlchemy: the half of :mod:`.sql_messages` that
walks a span's chain reference back to its messages, shared by the SQL store
(:func:`.sql_messages.join`) and the CLI's read-only SQLite path (:mod:`.lite_traces`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import orjson

from agentdeck.core.trace.model import Span, SpanKind

REFS_KEY = "$agentdeck.messages"

MessageRow = tuple[str, str, str | None, str]
"""(trace id, sha256, parent sha256, message JSON): a row of the ``messages`` table."""

__all__ = ["REFS_KEY", "MessageRow", "put_back", "traces_with_refs"]


def _ref(s: Span) -> tuple[str, int] | None:
    inputs = s.inputs
    if s.kind is not SpanKind.LLM or not isinstance(inputs, dict):
        return None
    ref = inputs.get("messages")
    if isinstance(ref, dict) and len(ref) == 1:
        v = ref.get(REFS_KEY)
        if isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], int):
            return v[0], v[1]
    return None


def _window(rows: dict[str, tuple[str | None, str]], tail: str, count: int) -> list[Any]:
    texts: list[str] = []
    node: str | None = tail
    while node is not None and len(texts) < count:
        row = rows.get(node)
        if row is None:  # never expected: a row is written in the span's transaction
            texts.append(orjson.dumps({"missing_message": node}).decode())
            break
        texts.append(row[1])
        node = row[0]
    return [orjson.loads(t) for t in reversed(texts)]


def traces_with_refs(spans: Iterable[Span]) -> list[str]:
    """The trace ids whose spans carry a chain reference, sorted (the rows to read)."""
    return sorted({s.trace_id for s in spans if _ref(s) is not None})


def put_back(
    spans: Iterable[Span], read: Callable[[Sequence[str]], Iterable[MessageRow]]
) -> list[Span]:
    """The spans with their context windows put back; ``read(trace_ids)`` yields the
    ``messages`` rows of those traces (asked for 500 traces at a time)."""
    items = list(spans)
    traces = traces_with_refs(items)
    if not traces:
        return items
    by_trace: dict[str, dict[str, tuple[str | None, str]]] = {}
    for i in range(0, len(traces), 500):
        for t, h, p, c in read(traces[i : i + 500]):
            by_trace.setdefault(t, {})[h] = (p, c)
    out: list[Span] = []
    for s in items:
        ref = _ref(s)
        if ref is None:
            out.append(s)
            continue
        assert isinstance(s.inputs, dict)
        msgs = _window(by_trace.get(s.trace_id, {}), *ref)
        out.append(
            replace(s, inputs={k: (msgs if k == "messages" else v) for k, v in s.inputs.items()})
        )
    return out
