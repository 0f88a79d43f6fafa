"""Search (migration ``0017_search``): run attributes by key and value, and the text of runs
and spans, both written at ingest by :mod:`agentdeck.store.sql_search`.

- ``run_attrs``: one row per (run, attribute key, value) for scalar attributes and each item
  of a list (tags), values as text, so ``attr.KEY:VALUE``, ``tag:X`` and ``metadata.KEY:V``
  are index lookups (``ix_run_attrs_key_value``).
- ``search_docs``: the searchable text of a run (``span_id`` empty: its input and output) and
  of each tool, LLM and retrieval span (arguments and results, model output), as the string
  values of that JSON joined by spaces. Full-text indexed by the migration outside this
  metadata: SQLite an FTS5 table ``search_fts`` over ``body`` (external content, kept by
  triggers), PostgreSQL a GIN index on ``to_tsvector('simple', body)``.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text, UniqueConstraint

from agentdeck.store.tables import metadata

run_attrs = Table(
    "run_attrs",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("value", String(200), primary_key=True),
)
Index("ix_run_attrs_key_value", run_attrs.c.key, run_attrs.c.value, run_attrs.c.trace_id)

search_docs = Table(
    "search_docs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16), nullable=False),  # "" for the run's own input and output
    Column("body", Text, nullable=False),
    UniqueConstraint("trace_id", "span_id", name="uq_search_docs_trace_span"),
)
