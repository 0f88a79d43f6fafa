"""Stored replay reports (migration ``0008_replay``): one row per reproduction, per ``--with``
comparison, and per agreement report over several runs; the report itself as JSON."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Index, String, Table, Text

from agentdeck.store.tables import metadata

replay_reports = Table(
    "replay_reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),  # reproduce | with | agreement
    Column("source_trace_id", String(32)),  # the replayed run (None for agreement reports)
    Column("replay_trace_id", String(32)),  # the run the replay itself recorded, if any
    Column("agent_name", String(100)),
    Column("candidate_digest", String(80)),  # the version that was run
    Column("outcome", String(20), nullable=False),  # reproduced | diverged | agreed | disagreed
    Column("score", Float),  # similarity (with) or agreement fraction (agreement)
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("report", Text, nullable=False),
)
Index("ix_replay_reports_source", replay_reports.c.source_trace_id)
Index("ix_replay_reports_agent_created", replay_reports.c.agent_name, replay_reports.c.created_at)
