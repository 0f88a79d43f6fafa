"""Tokens and cost on runs, cost on LLM spans.

``spans.cost_usd``: USD of one LLM call, priced at ingest from its token usage and its model's
price (:mod:`agentdeck.core.cost`); NULL when its model has no known price. ``runs``: the sums
over the run's spans (``input_tokens``, ``output_tokens``, ``total_tokens``, ``cost_usd``) and
``unpriced_calls``, kept at ingest by :mod:`agentdeck.store.sql_cost` through the covering
partial index ``ix_spans_usage`` (it holds only the spans that report usage).

Runs stored before this revision get their token sums here; their spans were never priced, so
their cost is NULL and their calls counted unpriced until ``agentdeck cost backfill`` prices
them (runs without any LLM call cost 0).

Revision ID: 0016_run_cost
Revises: 0013_run_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_run_cost"
down_revision = "0013_run_sessions"
branch_labels = None
depends_on = None

_USAGE = "spans.trace_id = runs.trace_id AND spans.input_tokens IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("spans") as batch:
        batch.add_column(sa.Column("cost_usd", sa.Float))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("input_tokens", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("output_tokens", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("total_tokens", sa.BigInteger, nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("cost_usd", sa.Float, server_default="0"))
        batch.add_column(
            sa.Column("unpriced_calls", sa.Integer, nullable=False, server_default="0")
        )
    has_usage = sa.text("input_tokens IS NOT NULL")
    op.create_index(
        "ix_spans_usage",
        "spans",
        ["trace_id", "input_tokens", "output_tokens", "cost_usd"],
        sqlite_where=has_usage,
        postgresql_where=has_usage,
    )
    op.execute(
        "UPDATE runs SET"
        f" input_tokens = COALESCE((SELECT SUM(input_tokens) FROM spans WHERE {_USAGE}), 0),"
        f" output_tokens = COALESCE((SELECT SUM(COALESCE(output_tokens, 0)) FROM spans WHERE {_USAGE}), 0),"
        f" unpriced_calls = (SELECT COUNT(*) FROM spans WHERE {_USAGE})"
        f" WHERE EXISTS (SELECT 1 FROM spans WHERE {_USAGE})"
    )
    op.execute(
        "UPDATE runs SET total_tokens = input_tokens + output_tokens,"
        " cost_usd = CASE WHEN unpriced_calls > 0 THEN NULL ELSE 0 END"
    )


def downgrade() -> None:
    op.drop_index("ix_spans_usage", "spans")
    with op.batch_alter_table("runs") as batch:
        for col in ("unpriced_calls", "cost_usd", "total_tokens", "output_tokens", "input_tokens"):
            batch.drop_column(col)
    with op.batch_alter_table("spans") as batch:
        batch.drop_column("cost_usd")
