"""Context windows stored once: an LLM span's messages as a chain in a per-run message store.

Every model call of a conversation sends the whole context window again, so storing each
span's ``inputs.messages`` inline makes a run's storage grow with the square of its turns.
Messages are stored instead as content-addressed rows of the ``messages`` table, one per
message *at its place in a conversation*: the row of message ``m`` after the row ``p`` is keyed
by ``sha256(p + "\\n" + json(m))`` and records ``p`` as its parent. A context window is then
the chain ending at its last message's row, and a window that extends an earlier one (the
next turn) adds only its new messages' rows. On write, :func:`split` replaces the list
``inputs["messages"]`` of an LLM span by ``{"$agentdeck.messages": [tail_sha256, count]}``
(in place: the key order of ``inputs`` is kept) and yields the rows (insert-or-ignore: a
re-sent batch, or spans of one run in many batches, change nothing). On read, :func:`join`
walks each chain back: the JSON that was written, message by message, so the trace view,
the API and replay see the spans unchanged. Spans stored before revision 0015_messages
(inline messages) read back as they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.engine import Connection

from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.store.engine import insert_ignore_sql
from agentdeck.store.tables_messages import messages

REFS_KEY = "$agentdeck.messages"

MessageRows = dict[tuple[str, str], tuple[str | None, str]]
"""(trace id, sha256) -> (parent sha256, message JSON)."""

__all__ = ["REFS_KEY", "MessageRows", "join", "split", "write_messages"]


def _node(parent: str | None, text: str) -> str:
    return hashlib.sha256(f"{parent or ''}\n{text}".encode()).hexdigest()


def split(spans: Sequence[Span]) -> tuple[list[Span], MessageRows]:
    """The spans with LLM context windows replaced by chain references, and the rows."""
    rows: MessageRows = {}
    out: list[Span] = []
    for s in spans:
        inputs = s.inputs
        msgs = inputs.get("messages") if isinstance(inputs, dict) else None
        if s.kind is not SpanKind.LLM or not isinstance(msgs, list) or not msgs:
            out.append(s)
            continue
        assert isinstance(inputs, dict)
        parent: str | None = None
        for m in msgs:
            text = orjson.dumps(m).decode()
            node = _node(parent, text)
            rows.setdefault((s.trace_id, node), (parent, text))
            parent = node
        ref = {REFS_KEY: [parent, len(msgs)]}
        out.append(
            replace(s, inputs={k: (ref if k == "messages" else v) for k, v in inputs.items()})
        )
    return out, rows


def write_messages(conn: Connection, rows: MessageRows) -> None:
    if rows:
        conn.exec_driver_sql(
            insert_ignore_sql(conn, messages), [(t, h, p, c) for (t, h), (p, c) in rows.items()]
        )


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


def join(conn: Connection, spans: Iterable[Span]) -> list[Span]:
    """The spans with their context windows put back (one query per 500 traces)."""
    items = list(spans)
    traces = sorted({s.trace_id for s in items if _ref(s) is not None})
    if not traces:
        return items
    by_trace: dict[str, dict[str, tuple[str | None, str]]] = {}
    for i in range(0, len(traces), 500):
        q = select(messages.c.trace_id, messages.c.sha256, messages.c.parent, messages.c.content)
        for t, h, p, c in conn.execute(q.where(messages.c.trace_id.in_(traces[i : i + 500]))):
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
