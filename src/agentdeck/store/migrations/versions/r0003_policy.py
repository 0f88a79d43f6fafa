"""Policy enforcement: approval requests and policy test results per (policy, agent) digest.

Revision ID: 0003_policy
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_policy"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("tool", sa.String(128), nullable=False),
        sa.Column("args", sa.Text, nullable=False),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("agent_version", sa.Integer),
        sa.Column("agent_digest", sa.String(80)),
        sa.Column("env", sa.String(60)),
        sa.Column("policy_name", sa.String(100), nullable=False),
        sa.Column("policy_version", sa.Integer),
        sa.Column("policy_digest", sa.String(80), nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("trace_id", sa.String(32)),
        sa.Column("span_id", sa.String(16)),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("reason", sa.Text),
    )
    op.create_index("ix_approvals_status_requested", "approvals", ["status", "requested_at"])
    op.create_table(
        "policy_test_results",
        sa.Column("policy_digest", sa.String(80), primary_key=True),
        sa.Column("agent_digest", sa.String(80), primary_key=True),
        sa.Column("policy_ref", sa.String(120), nullable=False),
        sa.Column("agent_ref", sa.String(120), nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("results", sa.Text, nullable=False),
        sa.Column("ran_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ran_by", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("policy_test_results")
    op.drop_index("ix_approvals_status_requested", table_name="approvals")
    op.drop_table("approvals")
