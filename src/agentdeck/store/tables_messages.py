"""The ``messages`` table: context-window messages stored once per run (migration 0015_messages).

Each row is one message of a trace at one place in a conversation: ``content`` is its JSON,
``parent`` the row of the message before it (None for a window's first message), and
``sha256`` the hash of both, so the row is content-addressed and a context window is the
chain ending at one row (:mod:`agentdeck.store.sql_messages`).
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from agentdeck.store.tables import metadata

messages = Table(
    "messages",
    metadata,
    Column("trace_id", String(32), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("parent", String(64)),
    Column("content", Text, nullable=False),
)
