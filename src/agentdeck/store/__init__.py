"""Persistence behind one Store protocol (SQLite and PostgreSQL via SQLAlchemy Core)."""

from agentdeck.store.protocol import RunQuery, Store
from agentdeck.store.sql import SqlStore, open_store

__all__ = ["RunQuery", "SqlStore", "Store", "open_store"]
