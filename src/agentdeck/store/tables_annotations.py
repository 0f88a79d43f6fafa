"""Human review and datasets (migration ``0019_annotations``): annotation queues, their items,
the labels given, eval cases made from runs, and the runs whose spans sampling dropped."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from agentdeck.store.tables import metadata

queues = Table(
    "annotation_queues",
    metadata,
    Column("queue_id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("schema", Text, nullable=False),  # the label schema, JSON
    Column("filter", Text, nullable=False),  # the runs-list filter parameters, JSON
    Column("sample", Float),
    Column("seed", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

queue_items = Table(
    "annotation_queue_items",
    metadata,
    Column("queue_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("trace_id", String(32), nullable=False),
    Column("status", String(10), nullable=False),
)
Index("ix_queue_items_trace", queue_items.c.queue_id, queue_items.c.trace_id, unique=True)

labels = Table(
    "annotations",
    metadata,
    Column("annotation_id", String(32), primary_key=True),
    Column("queue_id", String(32), nullable=False),
    Column("trace_id", String(32), nullable=False),
    Column("label", String(100), nullable=False),
    Column("passed", Boolean),
    Column("scores", Text, nullable=False),  # JSON {name: number}
    Column("comment", Text),
    Column("by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("agent_name", String(100)),
    Column("agent_digest", String(80)),
)
Index("ix_annotations_trace", labels.c.trace_id, labels.c.created_at)
Index("ix_annotations_digest", labels.c.agent_digest, labels.c.created_at)

dataset_cases = Table(
    "dataset_cases",
    metadata,
    Column("suite", String(100), primary_key=True),
    Column("case_id", String(200), primary_key=True),
    Column("case", Text, nullable=False),  # JSON, as a suite file writes it
    Column("trace_id", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

sampled_runs = Table(
    "sampled_runs",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("spans_dropped", Integer, nullable=False),
    Column("fraction", Float, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
