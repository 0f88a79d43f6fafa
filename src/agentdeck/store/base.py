"""Connection handling shared by the SQL store's parts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from agentdeck.store.utc import as_utc

__all__ = ["SqlBase", "as_utc", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


class SqlBase:
    """Holds the engine; ``_write()`` and ``_read()`` open a transaction of the right kind."""

    engine: Engine

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(agentdeck_write=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _retryable(self, exc: Exception) -> bool:
        return isinstance(exc, OperationalError) and "locked" in str(exc).lower()
