"""Tables of policy enforcement (migration ``0003_policy``): approval requests and stored
policy test results. ``approvals.requested_by`` came later (``0009_approval_owner``)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text

from agentdeck.store.tables import metadata

approvals = Table(
    "approvals",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(10), nullable=False),  # pending | granted | denied | expired
    Column("tool", String(128), nullable=False),
    Column("args", Text, nullable=False),  # JSON
    Column("agent_name", String(100)),
    Column("agent_version", Integer),
    Column("agent_digest", String(80)),
    Column("env", String(60)),
    Column("policy_name", String(100), nullable=False),
    Column("policy_version", Integer),
    Column("policy_digest", String(80), nullable=False),
    Column("rules", Text, nullable=False),  # JSON list of rule ids
    Column("message", Text, nullable=False),
    Column("trace_id", String(32)),
    Column("span_id", String(16)),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(200)),
    Column("reason", Text),
    Column("requested_by", String(200)),  # API key id that opened it; NULL: written directly
)
Index("ix_approvals_status_requested", approvals.c.status, approvals.c.requested_at)

policy_test_results = Table(
    "policy_test_results",
    metadata,
    Column("policy_digest", String(80), primary_key=True),
    Column("agent_digest", String(80), primary_key=True),
    Column("policy_ref", String(120), nullable=False),
    Column("agent_ref", String(120), nullable=False),
    Column("total", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("results", Text, nullable=False),  # JSON list of {name, passed, effect, reason}
    Column("ran_at", DateTime(timezone=True), nullable=False),
    Column("ran_by", String(200), nullable=False),
)
