"""A run and its spans read with stdlib ``sqlite3`` on a store opened by :mod:`.lite`: the three
reads of the trace store that :func:`~agentdeck.tracing.analysis.queries.load_trace` makes,
:mod:`.sql_traces`' SELECTs written out, each row converted by the SQL store's conversion
(:mod:`.run_row`, :mod:`.span_row`, context windows by :mod:`.messages_chain`), for the CLI's
fast ``trace``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentdeck.core.trace.query import prefix_range
from agentdeck.store.messages_chain import put_back
from agentdeck.store.run_row import row_run
from agentdeck.store.span_row import row_span

if TYPE_CHECKING:
    import sqlite3

    from agentdeck.core.trace.model import Run, Span

__all__ = ["LiteTraces"]


class LiteTraces:
    """``get_run``, ``get_spans`` and ``trace_ids_with_prefix`` of the trace store."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def get_run(self, trace_id: str) -> Run | None:
        row = self.conn.execute("SELECT * FROM runs WHERE trace_id = ?", (trace_id,)).fetchone()
        return None if row is None else row_run(row)

    def get_spans(self, trace_id: str) -> list[Span]:
        rows = self.conn.execute(
            "SELECT * FROM spans WHERE trace_id = ? ORDER BY seq, start_ns", (trace_id,)
        ).fetchall()
        return put_back([row_span(r) for r in rows], self._messages)

    def _messages(self, traces: Sequence[str]) -> Any:
        marks = ", ".join("?" * len(traces))
        sql = f"SELECT trace_id, sha256, parent, content FROM messages WHERE trace_id IN ({marks})"
        return [tuple(vars(r).values()) for r in self.conn.execute(sql, list(traces))]

    def trace_ids_with_prefix(
        self, prefix: str, limit: int = 3, project: str | None = None
    ) -> list[str]:
        low, high = prefix_range(prefix)
        sql, args = "SELECT trace_id FROM runs WHERE trace_id >= ?", list[Any]([low])
        if high is not None:
            sql += " AND trace_id < ?"
            args.append(high)
        if project is not None:
            sql += " AND project = ?"
            args.append(project)
        rows = self.conn.execute(sql + " ORDER BY trace_id LIMIT ?", [*args, limit]).fetchall()
        return [r.trace_id for r in rows if r.trace_id.startswith(prefix)]
