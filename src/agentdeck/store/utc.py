"""Stored times as UTC datetimes, without SQLAlchemy (the SQL store and the CLI's read-only
SQLite paths share it)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc"]


def as_utc(value: datetime | str) -> datetime:
    """SQLite returns naive datetimes (through SQLAlchemy) or their text (``2026-01-02
    03:04:05.000006``, through ``sqlite3``); everything agentdeck stores is UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
