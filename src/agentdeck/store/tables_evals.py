"""Tables of eval results (migration ``0005_evals``): one row per suite run, one per case."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Index, Integer, String, Table, Text

from agentdeck.store.tables import metadata

eval_results = Table(
    "eval_results",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("suite_name", String(100), nullable=False),
    Column("suite_digest", String(80), nullable=False),
    Column("agent_name", String(100), nullable=False),
    Column("agent_version", Integer, nullable=False),
    Column("agent_digest", String(80), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("total", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
)
Index("ix_eval_results_digest", eval_results.c.agent_digest, eval_results.c.suite_name)
Index("ix_eval_results_name", eval_results.c.agent_name, eval_results.c.created_at)

eval_case_results = Table(
    "eval_case_results",
    metadata,
    Column("result_id", String(32), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("case_id", String(200), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),  # JSON list of strings
    Column("trace_id", String(32)),
    Column("steps", Integer, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("output", Text),  # JSON
    Column("error", Text),
)
