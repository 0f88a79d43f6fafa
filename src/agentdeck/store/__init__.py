"""Persistence behind one Store protocol (SQLite and PostgreSQL via SQLAlchemy Core)."""

from agentdeck.store.protocol import Store
from agentdeck.store.sql import SqlStore, open_store
from agentdeck.store.sql_traces import RunQuery

__all__ = ["RunQuery", "SqlStore", "Store", "open_store"]
