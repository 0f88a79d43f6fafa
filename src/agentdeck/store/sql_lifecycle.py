"""Deleting runs in SQL: a run and everything stored of it, with its audit entry, in one
transaction.

What a run leaves, and is deleted with it: its spans, context-window messages, tool list
(``run_tools``), search attributes and text (``run_attrs``, ``search_docs`` and so the
full-text index), window summary, findings, feedback, approvals requested in it, and replay
reports of it or recorded by it. Eval case results keep their run id (a gate's evidence)
but the run is gone. The audit entry (appended in the same transaction) carries the counts
per table given by the service plus those found here, never the content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import delete, or_

from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import run_tools, runs, spans
from agentdeck.store.tables_feedback import feedback
from agentdeck.store.tables_messages import messages
from agentdeck.store.tables_monitor import findings, run_summaries
from agentdeck.store.tables_policy import approvals
from agentdeck.store.tables_replay import replay_reports
from agentdeck.store.tables_search import run_attrs, search_docs

__all__ = ["SqlLifecycle"]

_CHUNK = 500
_BY_TRACE: tuple[Any, ...] = (
    spans, messages, run_tools, run_attrs, search_docs, run_summaries, findings, feedback,
    approvals,
)  # fmt: skip


class SqlLifecycle(SqlBase):
    def delete_runs(self, trace_ids: Sequence[str], audit: AuditEvent | None) -> dict[str, int]:
        """Delete those runs and what they left (module docstring); the rows deleted per
        table. ``audit`` is appended with ``deleted`` (those counts) added to its payload."""
        ids = list(dict.fromkeys(trace_ids))
        counts: dict[str, int] = {}
        with self._write() as conn:
            for i in range(0, len(ids), _CHUNK):
                part = ids[i : i + _CHUNK]
                for table in _BY_TRACE:
                    n = conn.execute(delete(table).where(table.c.trace_id.in_(part))).rowcount
                    counts[str(table.name)] = counts.get(str(table.name), 0) + max(n, 0)
                r = replay_reports.c
                n = conn.execute(
                    delete(replay_reports).where(
                        or_(r.source_trace_id.in_(part), r.replay_trace_id.in_(part))
                    )
                ).rowcount
                counts[str(replay_reports.name)] = counts.get(str(replay_reports.name), 0) + max(
                    n, 0
                )
                n = conn.execute(delete(runs).where(runs.c.trace_id.in_(part))).rowcount
                counts["runs"] = counts.get("runs", 0) + max(n, 0)
            if audit is not None:
                payload = {**audit.payload, "deleted": dict(counts)}
                append_audit_in(conn, replace(audit, payload=payload))
        return counts
