"""A SQLite store opened read-only with stdlib ``sqlite3``, for the CLI's fast read paths (issue
17: start-up; SQLAlchemy alone costs ~150 ms).

:func:`open_readonly` answers None (the caller runs the full command, which opens the full
store) when the file is missing, cannot be opened read-only, or is not at the migration
scripts' heads (the full store would migrate it). Rows come back as namespaces whose columns
are attributes, as SQLAlchemy's ``Row`` has them, so the store's row conversions serve both.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

from agentdeck.store.script_heads import script_heads

__all__ = ["LiteError", "open_readonly"]

LiteError = sqlite3.Error
"""What a read on the connection raises when the store is not what the SQL expects."""


def _row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> SimpleNamespace:
    return SimpleNamespace(**{d[0]: v for d, v in zip(cursor.description, row, strict=True)})


def _uri(path: str) -> str:
    """``path`` as a read-only SQLite URI: the characters a URI gives a meaning escaped."""
    escaped = "".join(f"%{ord(c):02X}" if c in "%?#" else c for c in os.path.realpath(path))
    return f"file:{escaped}?mode=ro"


@contextmanager
def open_readonly(path: str) -> Iterator[sqlite3.Connection | None]:
    """The store at ``path``, read-only, or None (see the module doc); closed on exit."""
    if not os.path.isfile(path):
        yield None
        return
    try:
        conn = sqlite3.connect(_uri(path), uri=True)
    except sqlite3.Error:
        yield None
        return
    try:
        conn.row_factory = _row
        try:
            stored = {
                r.version_num for r in conn.execute("SELECT version_num FROM alembic_version")
            }
        except sqlite3.Error:
            stored = set()
        yield conn if stored == script_heads() else None
    finally:
        conn.close()
