"""Canaries: the ``canaries`` table, and the arm of each run (``runs.canary_arm``).

A canary is a deployment in progress: a candidate version taking a share of an env's runs
from the stable deployment, step by step, judged on live traffic. At most one is active
(running or paused) per agent and env (a partial unique index). Runs keep their deployment id
(the candidate arm's is the canary id) and now their arm; ``ix_runs_deployment_start`` reads a
canary's runs by deployment.

Revision ID: 0020_canary
Revises: 0013_run_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_canary"
down_revision = "0013_run_sessions"
branch_labels = None
depends_on = None

_ACTIVE = "state IN ('running', 'paused')"


def upgrade() -> None:
    op.create_table(
        "canaries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("agent_name", sa.String(100), nullable=False),
        sa.Column("env", sa.String(60), nullable=False),
        sa.Column("candidate_digest", sa.String(80), nullable=False),
        sa.Column("candidate_version", sa.Integer, nullable=False),
        sa.Column("stable_deployment_id", sa.String(32), nullable=False),
        sa.Column("stable_digest", sa.String(80), nullable=False),
        sa.Column("stable_version", sa.Integer, nullable=False),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("step_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("judgement", sa.Text, nullable=False),
    )
    op.create_index("ix_canaries_agent_env", "canaries", ["agent_name", "env", "started_at"])
    op.create_index(
        "ux_canaries_active",
        "canaries",
        ["agent_name", "env"],
        unique=True,
        sqlite_where=sa.text(_ACTIVE),
        postgresql_where=sa.text(_ACTIVE),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("canary_arm", sa.String(12)))
    op.create_index("ix_runs_deployment_start", "runs", ["deployment_id", "start_ns"])


def downgrade() -> None:
    op.drop_index("ix_runs_deployment_start", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("canary_arm")
    op.drop_index("ux_canaries_active", "canaries")
    op.drop_index("ix_canaries_agent_env", "canaries")
    op.drop_table("canaries")
