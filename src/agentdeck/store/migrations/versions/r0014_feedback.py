"""Feedback on runs: scores and labels from people and programs, who gave them, when.

Revision ID: 0014_feedback
Revises: 0010_run_summary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_feedback"
down_revision = "0010_run_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("feedback_id", sa.String(32), primary_key=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("label", sa.String(100)),
        sa.Column("comment", sa.Text),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_feedback_trace", "feedback", ["trace_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_trace", "feedback")
    op.drop_table("feedback")
