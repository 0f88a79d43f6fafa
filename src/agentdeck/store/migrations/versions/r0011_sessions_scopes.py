"""Server-side UI sessions and keys bound to agent name patterns.

``ui_sessions`` holds one row per browser sign-in: the sha256 of a random session token (the
cookie carries the token, never the API key), the key it acts for, its absolute expiry, its
last use (for the idle timeout) and when it was revoked (sign-out, or its key revoked).
``api_keys.agents`` is the comma-separated list of agent name patterns a key may act on
(``NULL``: every agent).

Revision ID: 0011_sessions_scopes
Revises: 0006_server
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_sessions_scopes"
down_revision = "0006_server"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("agents", sa.String(200), nullable=True))
    op.create_table(
        "ui_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_ui_sessions_key_id", "ui_sessions", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_ui_sessions_key_id", table_name="ui_sessions")
    op.drop_table("ui_sessions")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("agents")
