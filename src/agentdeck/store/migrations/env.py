"""Alembic environment: runs on the connection that :mod:`agentdeck.store.migrate` hands over."""

from __future__ import annotations

from alembic import context

from agentdeck.store import tables_messages, tables_monitor  # noqa: F401  (registers tables)
from agentdeck.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
