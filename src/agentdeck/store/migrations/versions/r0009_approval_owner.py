"""Approval requests record who opened them: ``approvals.requested_by``.

The server stores the opening API key's id there and lets that key read the request back;
requests already stored (and those written straight to the store by the embedded approver)
keep ``NULL``: no ingest key owns them.

Revision ID: 0009_approval_owner
Revises: 0003_policy
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_approval_owner"
down_revision = "0003_policy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("approvals", sa.Column("requested_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approvals") as batch:
        batch.drop_column("requested_by")
