"""The feedback table (migration ``0014_feedback``): many rows per run, newest last."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, String, Table, Text

from agentdeck.store.tables import metadata

feedback = Table(
    "feedback",
    metadata,
    Column("feedback_id", String(32), primary_key=True),
    Column("trace_id", String(32), nullable=False),
    Column("score", Float),
    Column("label", String(100)),
    Column("comment", Text),
    Column("by", String(200), nullable=False),
    Column("source", String(10), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("ix_feedback_trace", feedback.c.trace_id, feedback.c.created_at)
