"""Projects: the ``projects`` table, and the project that owns each agent, policy, run and key.

Several teams share one server: a project owns agents (``agent_versions.project``), policies
(``policy_versions.project``), runs (``runs.project``) and API keys (``api_keys.project``).
Everything already stored moves into the project ``default``, which this migration creates:
each new column is NOT NULL with the server default ``'default'``, so the rows present get it
and writers that name no project keep writing there. ``api_keys.all_projects`` marks an admin
key of ``default`` that may act in any project. ``ix_runs_project_start`` serves a project's
runs list from an index range, newest first, like ``ix_runs_start`` does for all runs.

Revision ID: 0021_projects
Revises: 0011_sessions_scopes
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0021_projects"
down_revision = "0011_sessions_scopes"
branch_labels = None
depends_on = None

_OWNED = ("agent_versions", "policy_versions", "runs", "api_keys")


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(60), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.bulk_insert(
        projects,
        [{"name": "default", "created_at": datetime.now(UTC), "created_by": "migration"}],
    )
    for table in _OWNED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("project", sa.String(60), nullable=False, server_default="default")
            )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(
            sa.Column("all_projects", sa.Boolean, nullable=False, server_default=sa.false())
        )
    op.create_index("ix_agent_versions_project", "agent_versions", ["project", "name"])
    op.create_index("ix_policy_versions_project", "policy_versions", ["project", "name"])
    op.create_index("ix_api_keys_project", "api_keys", ["project"])
    op.create_index("ix_runs_project_start", "runs", ["project", "start_ns", "trace_id"])


def downgrade() -> None:
    op.drop_index("ix_runs_project_start", "runs")
    op.drop_index("ix_api_keys_project", "api_keys")
    op.drop_index("ix_policy_versions_project", "policy_versions")
    op.drop_index("ix_agent_versions_project", "agent_versions")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("all_projects")
    for table in reversed(_OWNED):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("project")
    op.drop_table("projects")
