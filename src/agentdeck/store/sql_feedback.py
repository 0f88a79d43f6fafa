"""Feedback in SQL: the row, the run's outcome when none is known, and the audit entry, in
one transaction."""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.feedback import Feedback, FeedbackSource, outcome_from_feedback
from agentdeck.core.trace.model import Outcome
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import runs
from agentdeck.store.tables_feedback import feedback
from agentdeck.store.tables_monitor import run_summaries


def put_feedback_in(conn: Connection, item: Feedback, outcome: Outcome | None) -> bool:
    """Insert ``item`` in the caller's transaction and set the run's ``outcome`` when it has
    none; returns whether it did."""
    conn.execute(
        insert(feedback).values(
            feedback_id=item.feedback_id,
            trace_id=item.trace_id,
            score=item.score,
            label=item.label,
            comment=item.comment,
            by=item.by,
            source=str(item.source),
            created_at=item.created_at,
        )
    )
    changed = 0
    if outcome is not None:
        changed = conn.execute(
            update(runs)
            .where(runs.c.trace_id == item.trace_id, runs.c.outcome.is_(None))
            .values(
                outcome=str(outcome),
                outcome_score=item.score,
                outcome_reason=f"feedback by {item.by}",
            )
        ).rowcount
    if changed:  # the run's summary counted it without an outcome: re-summarize it
        conn.execute(delete(run_summaries).where(run_summaries.c.trace_id == item.trace_id))
    return bool(changed)


class SqlFeedback(SqlBase):
    def put_feedback(self, item: Feedback, audit: AuditEvent) -> bool:
        """Store ``item``; set the run's outcome from it when the run has none (see
        :func:`outcome_from_feedback`). Returns whether the outcome was set."""
        with self._write() as conn:
            changed = put_feedback_in(conn, item, outcome_from_feedback(item.score, item.label))
            append_audit_in(conn, audit)
            return changed

    def list_feedback(self, trace_id: str) -> list[Feedback]:
        with self._read() as conn:
            rows = conn.execute(
                select(feedback)
                .where(feedback.c.trace_id == trace_id)
                .order_by(feedback.c.created_at, feedback.c.feedback_id)
            ).all()
        return [
            Feedback(
                feedback_id=r.feedback_id,
                trace_id=r.trace_id,
                score=r.score,
                label=r.label,
                comment=r.comment,
                by=r.by,
                source=FeedbackSource(r.source),
                created_at=as_utc(r.created_at),
            )
            for r in rows
        ]
