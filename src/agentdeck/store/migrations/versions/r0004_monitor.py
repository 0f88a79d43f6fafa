"""Monitoring: run summaries, baselines, findings, alerts.

Revision ID: 0004_monitor
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_monitor"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_summaries",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("agent_digest", sa.String(80)),
        sa.Column("env", sa.String(60)),
        sa.Column("start_ns", sa.BigInteger, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_run_summaries_agent_env_start", "run_summaries", ["agent_name", "env", "start_ns"]
    )
    op.create_table(
        "baselines",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("agent_digest", sa.String(80)),
        sa.Column("env", sa.String(60)),
        sa.Column("selection", sa.Text, nullable=False),
        sa.Column("n_runs", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
    )
    op.create_index("ix_baselines_agent_created", "baselines", ["agent_name", "created_at"])
    op.create_table(
        "findings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16)),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("env", sa.String(60)),
        sa.Column("check_name", sa.String(60), nullable=False),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_findings_at", "findings", ["at"])
    op.create_index("ix_findings_trace", "findings", ["trace_id"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("env", sa.String(60)),
        sa.Column("severity", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200)),
        sa.Column("action", sa.Text),
    )
    op.create_index("ix_alerts_rule_subject", "alerts", ["rule", "subject"])
    op.create_index("ix_alerts_status", "alerts", ["status"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("findings")
    op.drop_table("baselines")
    op.drop_index("ix_run_summaries_agent_env_start", table_name="run_summaries")
    op.drop_table("run_summaries")
