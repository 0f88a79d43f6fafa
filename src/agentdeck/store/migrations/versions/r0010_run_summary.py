"""A run's summary on the runs table: tool errors, denied calls and outcome.

``tool_errors`` and ``denied_calls`` are counted from the run's spans at ingest
(:mod:`agentdeck.store.sql_traces`); runs stored before this revision are counted here once,
from their stored spans. ``outcome`` (success / failure), ``outcome_score`` and
``outcome_reason`` are known only for new runs. Indexes serve the filters of ``runs``
(status, outcome, has errors, denied), newest first, and the counting (a partial index of the
failed tool spans by trace).

Revision ID: 0010_run_summary
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_run_summary"
down_revision = "0002"
branch_labels = None
depends_on = None

_TOOL_ERROR = "spans.trace_id = runs.trace_id AND spans.kind = 'tool' AND spans.status = 'error'"
_DENIED = "spans.attributes LIKE :denied"
_DENIED_PATTERN = '%"tool.denied":true%'  # attributes are compact JSON (orjson)


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("tool_errors", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("denied_calls", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("outcome", sa.String(10)))
        batch.add_column(sa.Column("outcome_score", sa.Float))
        batch.add_column(sa.Column("outcome_reason", sa.Text))
    op.execute(
        sa.text(
            "UPDATE runs SET"
            f" tool_errors = (SELECT COUNT(*) FROM spans WHERE {_TOOL_ERROR}),"
            f" denied_calls = (SELECT COUNT(*) FROM spans WHERE {_TOOL_ERROR} AND {_DENIED})"
        ).bindparams(denied=_DENIED_PATTERN)
    )
    failed_tool = sa.text("kind = 'tool' AND status = 'error'")
    op.create_index(
        "ix_spans_failed_tools",
        "spans",
        ["trace_id"],
        sqlite_where=failed_tool,
        postgresql_where=failed_tool,
    )
    op.create_index("ix_runs_status_start", "runs", ["status", "start_ns"])
    op.create_index("ix_runs_outcome_start", "runs", ["outcome", "start_ns"])
    op.create_index(
        "ix_runs_tool_errors_start",
        "runs",
        ["start_ns"],
        sqlite_where=sa.text("tool_errors > 0"),
        postgresql_where=sa.text("tool_errors > 0"),
    )
    op.create_index(
        "ix_runs_denied_start",
        "runs",
        ["start_ns"],
        sqlite_where=sa.text("denied_calls > 0"),
        postgresql_where=sa.text("denied_calls > 0"),
    )


def downgrade() -> None:
    for name in (
        "ix_runs_denied_start",
        "ix_runs_tool_errors_start",
        "ix_runs_outcome_start",
        "ix_runs_status_start",
    ):
        op.drop_index(name, "runs")
    op.drop_index("ix_spans_failed_tools", "spans")
    with op.batch_alter_table("runs") as batch:
        for col in ("outcome_reason", "outcome_score", "outcome", "denied_calls", "tool_errors"):
            batch.drop_column(col)
