"""Registry, deployments and the audit chain.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_versions",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("prompt_digest", sa.String(80), nullable=False),
        sa.Column("policy", sa.String(120)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_agent_versions_name_version"),
    )
    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(80), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_policy_versions_name_version"),
    )
    op.create_table(
        "environments",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("gates", sa.Text, nullable=False),
        sa.Column("disabled", sa.Text, nullable=False),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("env", sa.String(60), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("agent_digest", sa.String(80), nullable=False),
        sa.Column("agent_version", sa.Integer, nullable=False),
        sa.Column("policy_digest", sa.String(80)),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_id", sa.String(32)),
        sa.Column("health", sa.String(10), nullable=False),
        sa.Column("forced", sa.Boolean, nullable=False),
        sa.UniqueConstraint("agent_name", "env", "seq", name="uq_deployments_agent_env_seq"),
    )
    op.create_table(
        "env_heads",
        sa.Column("agent_name", sa.String(100), primary_key=True),
        sa.Column("env", sa.String(60), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("deployment_id", sa.String(32), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for name in (
        "audit_head",
        "audit_log",
        "env_heads",
        "deployments",
        "environments",
        "policy_versions",
        "agent_versions",
    ):
        op.drop_table(name)
