"""The canaries table (migration ``0020_canary``): one row per canary or shadow, its state,
step and last judgement; at most one active (running or paused) per agent and env."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text

from agentdeck.store.tables import metadata

ACTIVE_STATES = ("running", "paused")

canaries = Table(
    "canaries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("agent_name", String(100), nullable=False),
    Column("env", String(60), nullable=False),
    Column("candidate_digest", String(80), nullable=False),
    Column("candidate_version", Integer, nullable=False),
    Column("stable_deployment_id", String(32), nullable=False),
    Column("stable_digest", String(80), nullable=False),
    Column("stable_version", Integer, nullable=False),
    Column("config", Text, nullable=False),
    Column("step", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("state", String(12), nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("step_started_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("version", Integer, nullable=False),
    Column("judgement", Text, nullable=False),
)
Index("ix_canaries_agent_env", canaries.c.agent_name, canaries.c.env, canaries.c.started_at)
Index(
    "ux_canaries_active",
    canaries.c.agent_name,
    canaries.c.env,
    unique=True,
    sqlite_where=canaries.c.state.in_(ACTIVE_STATES),
    postgresql_where=canaries.c.state.in_(ACTIVE_STATES),
)
