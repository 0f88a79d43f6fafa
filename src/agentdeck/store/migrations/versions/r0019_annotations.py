"""Human review and datasets: annotation queues, items and labels; eval cases made from runs;
the runs whose span payloads ingest sampling dropped.

Revision ID: 0019_annotations
Revises: 0014_feedback
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_annotations"
down_revision = "0014_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "annotation_queues",
        sa.Column("queue_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("schema", sa.Text, nullable=False),
        sa.Column("filter", sa.Text, nullable=False),
        sa.Column("sample", sa.Float),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "annotation_queue_items",
        sa.Column("queue_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
    )
    op.create_index(
        "ix_queue_items_trace", "annotation_queue_items", ["queue_id", "trace_id"], unique=True
    )
    op.create_table(
        "annotations",
        sa.Column("annotation_id", sa.String(32), primary_key=True),
        sa.Column("queue_id", sa.String(32), nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("passed", sa.Boolean),
        sa.Column("scores", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent_name", sa.String(100)),
        sa.Column("agent_digest", sa.String(80)),
    )
    op.create_index("ix_annotations_trace", "annotations", ["trace_id", "created_at"])
    op.create_index("ix_annotations_digest", "annotations", ["agent_digest", "created_at"])
    op.create_table(
        "dataset_cases",
        sa.Column("suite", sa.String(100), primary_key=True),
        sa.Column("case_id", sa.String(200), primary_key=True),
        sa.Column("case", sa.Text, nullable=False),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "sampled_runs",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("spans_dropped", sa.Integer, nullable=False),
        sa.Column("fraction", sa.Float, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sampled_runs")
    op.drop_table("dataset_cases")
    op.drop_index("ix_annotations_digest", "annotations")
    op.drop_index("ix_annotations_trace", "annotations")
    op.drop_table("annotations")
    op.drop_index("ix_queue_items_trace", "annotation_queue_items")
    op.drop_table("annotation_queue_items")
    op.drop_table("annotation_queues")
