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
from agentdeck.store.messages_chain import REFS_KEY, put_back
from agentdeck.store.tables_messages import messages

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


def join(conn: Connection, spans: Iterable[Span]) -> list[Span]:
    """The spans with their context windows put back (one query per 500 traces)."""

    def read(traces: Sequence[str]) -> Any:
        q = select(messages.c.trace_id, messages.c.sha256, messages.c.parent, messages.c.content)
        return conn.execute(q.where(messages.c.trace_id.in_(traces)))

    return put_back(spans, read)
