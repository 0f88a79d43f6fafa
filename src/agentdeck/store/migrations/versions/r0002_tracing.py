"""Runs and spans.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("agent_version", sa.Integer),
        sa.Column("agent_digest", sa.String(80)),
        sa.Column("env", sa.String(60)),
        sa.Column("deployment_id", sa.String(32)),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("input", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("root_span_id", sa.String(16)),
        sa.Column("attributes", sa.Text),
    )
    op.create_index("ix_runs_agent_start", "runs", ["agent_name", "start_ns"])
    op.create_index("ix_runs_env_start", "runs", ["env", "start_ns"])
    op.create_table(
        "spans",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("span_id", sa.String(16), primary_key=True),
        sa.Column("parent_id", sa.String(16)),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("tool_name", sa.String(128)),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("end_ns", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("inputs", sa.Text),
        sa.Column("outputs", sa.Text),
        sa.Column("attributes", sa.Text),
        sa.Column("links", sa.Text),
        sa.Column("input_tokens", sa.Integer),
        sa.Column("output_tokens", sa.Integer),
        sa.Column("usage", sa.Text),
    )
    op.create_index("ix_spans_tool_name", "spans", ["tool_name"])


def downgrade() -> None:
    op.drop_table("spans")
    op.drop_table("runs")
