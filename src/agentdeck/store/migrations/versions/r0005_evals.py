"""Eval results bound to agent digests (what the eval gate reads).

Revision ID: 0005_evals
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_evals"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "eval_results",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("suite_name", sa.String(100), nullable=False),
        sa.Column("suite_digest", sa.String(80), nullable=False),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("agent_version", sa.Integer, nullable=False),
        sa.Column("agent_digest", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
    )
    op.create_index("ix_eval_results_digest", "eval_results", ["agent_digest", "suite_name"])
    op.create_index("ix_eval_results_name", "eval_results", ["agent_name", "created_at"])
    op.create_table(
        "eval_case_results",
        sa.Column("result_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.String(200), nullable=False),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("steps", sa.Integer, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("eval_case_results")
    op.drop_index("ix_eval_results_name", "eval_results")
    op.drop_index("ix_eval_results_digest", "eval_results")
    op.drop_table("eval_results")
