"""The audit log by project: ``audit_log.project`` and ``ix_audit_log_project``.

Each audit entry belongs to the project whose records it is about (``*``: server-wide, such
as the promotion path). The project is hashed in the entry's payload (``payload["project"]``,
absent for the default project), so the entries already stored get the column from their
payload: ``default`` where it names none. ``GET /api/v1/audit/log`` and ``agentdeck audit log``
read one project's entries from ``ix_audit_log_project``, newest first.

Revision ID: 0022_audit_project
Revises: 0021_projects
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0022_audit_project"
down_revision = "0021_projects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("project", sa.String(60), nullable=False, server_default="default")
        )
    log = sa.table(
        "audit_log", sa.column("seq", sa.BigInteger), sa.column("payload", sa.Text),
        sa.column("project", sa.String),
    )  # fmt: skip
    conn = op.get_bind()
    named = conn.execute(
        sa.select(log.c.seq, log.c.payload).where(log.c.payload.contains('"project"'))
    ).all()
    for seq, payload in named:
        project = json.loads(payload).get("project")
        if isinstance(project, str) and project != "default":
            conn.execute(sa.update(log).where(log.c.seq == seq).values(project=project))
    op.create_index("ix_audit_log_project", "audit_log", ["project", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_project", "audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("project")
