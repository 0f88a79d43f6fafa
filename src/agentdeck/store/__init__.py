"""Persistence behind one Store protocol (SQLite and PostgreSQL via SQLAlchemy Core).

The names below load on first use (PEP 562), so that importing a submodule (the protocol, a
table) or ``RunQuery`` does not import SQLAlchemy and every store part: the CLI's start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdeck.store.protocol import RunQuery, Store
    from agentdeck.store.sql import SqlStore, open_store

__all__ = ["RunQuery", "SqlStore", "Store", "open_store"]

_HOME = {
    "RunQuery": "agentdeck.store.protocol",
    "Store": "agentdeck.store.protocol",
    "SqlStore": "agentdeck.store.sql",
    "open_store": "agentdeck.store.sql",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
