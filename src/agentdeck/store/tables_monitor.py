"""Monitoring tables (migration ``0004_monitor``): run summaries, baselines, findings, alerts.

- ``run_summaries``: one compact row per checked run (what a behaviour profile reads, without
  argument and response values), so that a window check never re-reads raw span JSON;
- ``baselines``: named behaviour profiles (JSON) with the selection they were built from;
- ``findings``: per-run check results; the id is a digest of (run, span, check), so checking a
  run twice stores each finding once;
- ``alerts``: fired alert rules with their state (open, acknowledged, resolved).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Float, Index, Integer, String, Table, Text

from agentdeck.store.tables import metadata

run_summaries = Table(
    "run_summaries",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("agent_name", String(100)),
    Column("agent_digest", String(80)),
    Column("env", String(60)),
    Column("start_ns", BigInteger, nullable=False),
    Column("summary", Text, nullable=False),
)
Index(
    "ix_run_summaries_agent_env_start",
    run_summaries.c.agent_name,
    run_summaries.c.env,
    run_summaries.c.start_ns,
)

baselines = Table(
    "baselines",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("agent_name", String(100), nullable=False),
    Column("agent_digest", String(80)),
    Column("env", String(60)),
    Column("selection", Text, nullable=False),
    Column("n_runs", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("profile", Text, nullable=False),
)
Index("ix_baselines_agent_created", baselines.c.agent_name, baselines.c.created_at)

findings = Table(
    "findings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16)),
    Column("agent_name", String(100)),
    Column("env", String(60)),
    Column("check_name", String(60), nullable=False),
    Column("severity", String(10), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_findings_at", findings.c.at)
Index("ix_findings_trace", findings.c.trace_id)

alerts = Table(
    "alerts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("rule", String(100), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("agent_name", String(100)),
    Column("env", String(60)),
    Column("severity", String(10), nullable=False),
    Column("status", String(12), nullable=False),
    Column("message", Text, nullable=False),
    Column("value", Float),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(200)),
    Column("action", Text),
)
Index("ix_alerts_rule_subject", alerts.c.rule, alerts.c.subject)
Index("ix_alerts_status", alerts.c.status)
