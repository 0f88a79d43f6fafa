"""Sessions and users on runs: ``session_id`` and ``user_id``.

Filled at ingest from the SDK (``agentdeck.run(session_id=..., user_id=...)``) or from a
producer's attributes on any span of the trace (``session.id``, ``gen_ai.conversation.id``,
``user.id``, ``enduser.id``); runs stored before this revision have neither. Each is indexed
with the start time, for the ``runs --session/--user`` filters, newest first.

Revision ID: 0013_run_sessions
Revises: 0010_run_summary
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_run_sessions"
down_revision = "0010_run_summary"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("session_id", sa.String(200)))
        batch.add_column(sa.Column("user_id", sa.String(200)))
    op.create_index("ix_runs_session_start", "runs", ["session_id", "start_ns"])
    op.create_index("ix_runs_user_start", "runs", ["user_id", "start_ns"])


def downgrade() -> None:
    op.drop_index("ix_runs_user_start", "runs")
    op.drop_index("ix_runs_session_start", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("user_id")
        batch.drop_column("session_id")
