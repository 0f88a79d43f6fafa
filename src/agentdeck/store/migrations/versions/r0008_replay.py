"""Replay reports: reproductions, candidate comparisons and agreement reports.

Revision ID: 0008_replay
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_replay"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replay_reports",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source_trace_id", sa.String(32)),
        sa.Column("replay_trace_id", sa.String(32)),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("candidate_digest", sa.String(80)),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
    )
    op.create_index("ix_replay_reports_source", "replay_reports", ["source_trace_id"])
    op.create_index(
        "ix_replay_reports_agent_created", "replay_reports", ["agent_name", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_replay_reports_agent_created", "replay_reports")
    op.drop_index("ix_replay_reports_source", "replay_reports")
    op.drop_table("replay_reports")
