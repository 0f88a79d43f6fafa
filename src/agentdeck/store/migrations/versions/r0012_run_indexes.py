"""Every list of runs served by an index, in keyset order, and no list reading spans.

- Each filter of ``runs`` (none, agent, agent and version, digest, env, status, outcome, has
  errors, denied) has an index ending in ``(start_ns, trace_id)``: the list's order, newest
  first, with the run id as tie-break, so a page and the page after a cursor are one index
  range read backwards, with no sort. The indexes of 0010 and 0002 are replaced by these.
- ``run_tools``: which tools each run called, with the run's start, so the tool filter is an
  index range too (``ix_run_tools_tool_start``) instead of a read of the matching spans;
  back-filled here from the stored spans. ``ix_spans_tool_name`` served only that filter and
  is dropped.
- PostgreSQL: a larger statistics target for ``trace_id`` (runs, spans) and ANALYZE, so the
  planner estimates the spans of one trace id close to the real count.

Revision ID: 0012_run_indexes
Revises: 0010_run_summary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_run_indexes"
down_revision = "0010_run_summary"
branch_labels = None
depends_on = None

_KEY = ["start_ns", "trace_id"]
_OLD = {
    "ix_runs_agent_start": ["agent_name", "start_ns"],
    "ix_runs_env_start": ["env", "start_ns"],
    "ix_runs_status_start": ["status", "start_ns"],
    "ix_runs_outcome_start": ["outcome", "start_ns"],
}
_NEW = {
    "ix_runs_start": [],
    "ix_runs_agent_start": ["agent_name"],
    "ix_runs_agent_version_start": ["agent_name", "agent_version"],
    "ix_runs_digest_start": ["agent_digest"],
    "ix_runs_env_start": ["env"],
    "ix_runs_status_start": ["status"],
    "ix_runs_outcome_start": ["outcome"],
}
_PARTIAL = {
    "ix_runs_tool_errors_start": "tool_errors > 0",
    "ix_runs_denied_start": "denied_calls > 0",
}
STATISTICS = 1000


def upgrade() -> None:
    for name in (*_OLD, *_PARTIAL):
        op.drop_index(name, "runs")
    for name, cols in _NEW.items():
        op.create_index(name, "runs", [*cols, *_KEY])
    for name, where in _PARTIAL.items():
        op.create_index(
            name, "runs", _KEY, sqlite_where=sa.text(where), postgresql_where=sa.text(where)
        )
    op.create_table(
        "run_tools",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("tool_name", sa.String(128), primary_key=True),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_run_tools_tool_start", "run_tools", ["tool_name", *_KEY])
    op.execute(
        "INSERT INTO run_tools (trace_id, tool_name, start_ns)"
        " SELECT spans.trace_id, spans.tool_name, MIN(COALESCE(runs.start_ns, spans.start_ns))"
        " FROM spans LEFT JOIN runs ON runs.trace_id = spans.trace_id"
        " WHERE spans.tool_name IS NOT NULL GROUP BY spans.trace_id, spans.tool_name"
    )
    op.drop_index("ix_spans_tool_name", "spans")
    if op.get_bind().dialect.name == "postgresql":
        for table in ("runs", "spans", "run_tools"):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN trace_id SET STATISTICS {STATISTICS}")
            op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    op.create_index("ix_spans_tool_name", "spans", ["tool_name"])
    op.drop_index("ix_run_tools_tool_start", "run_tools")
    op.drop_table("run_tools")
    for name in (*_NEW, *_PARTIAL):
        op.drop_index(name, "runs")
    for name, cols in _OLD.items():
        op.create_index(name, "runs", cols)
    for name, where in _PARTIAL.items():
        op.create_index(
            name,
            "runs",
            ["start_ns"],
            sqlite_where=sa.text(where),
            postgresql_where=sa.text(where),
        )
