"""Context-window messages stored once per run: the ``messages`` table.

An LLM span's ``inputs.messages`` is stored as a reference to the last row of a chain of
``messages`` rows (each keyed by trace id and the SHA-256 of its parent's hash and its JSON),
so the messages a conversation's model calls share are stored once and a run's storage grows
linearly with its turns instead of with their square. Spans stored before this revision keep their inline
messages and read back as before (no data is rewritten).

Revision ID: 0015_messages
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_messages"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("parent", sa.String(64)),
        sa.Column("content", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("messages")
