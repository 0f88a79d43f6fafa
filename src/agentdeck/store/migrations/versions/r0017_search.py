"""Search: run attributes by key and value, and full text of inputs, outputs and tool
arguments and results (``store/tables_search.py``).

- ``run_attrs`` (trace id, key, value), indexed by (key, value, trace id);
- ``search_docs`` (id, trace id, span id, body) with, on SQLite, an FTS5 table ``search_fts``
  (external content: the index only, kept in step by insert and delete triggers) and, on
  PostgreSQL, a GIN index on ``to_tsvector('simple', body)``;
- both back-filled here from the runs and spans already stored, in chunks.

Revision ID: 0017_search
Revises: 0013_run_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_search"
down_revision = "0013_run_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_attrs",
        sa.Column("trace_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", sa.String(200), primary_key=True),
    )
    op.create_index("ix_run_attrs_key_value", "run_attrs", ["key", "value", "trace_id"])
    op.create_table(
        "search_docs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.UniqueConstraint("trace_id", "span_id", name="uq_search_docs_trace_span"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for sql in (
            "CREATE VIRTUAL TABLE search_fts USING fts5(body, content='search_docs',"
            " content_rowid='id')",
            "CREATE TRIGGER search_docs_ai AFTER INSERT ON search_docs BEGIN"
            " INSERT INTO search_fts(rowid, body) VALUES (new.id, new.body); END",
            "CREATE TRIGGER search_docs_ad AFTER DELETE ON search_docs BEGIN"
            " INSERT INTO search_fts(search_fts, rowid, body) VALUES ('delete', old.id, old.body);"
            " END",
        ):
            op.execute(sql)
    else:
        op.execute(
            "CREATE INDEX ix_search_docs_fts ON search_docs USING gin (to_tsvector('simple', body))"
        )
    from agentdeck.store.sql_search import backfill

    backfill(bind)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    op.drop_table("search_docs")
    op.drop_index("ix_run_attrs_key_value", "run_attrs")
    op.drop_table("run_attrs")
