"""Who owns what, read with stdlib ``sqlite3`` on a store opened by :mod:`.lite`: the checks the
CLI's project scope makes (:mod:`agentdeck.cli.scope`), for the fast read paths."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = ["agent_project", "in_default_project", "project_exists"]


def project_exists(conn: sqlite3.Connection, name: str) -> bool:
    """Whether project ``name`` exists (the full commands refuse one that does not)."""
    return conn.execute("SELECT 1 FROM projects WHERE name = ?", (name,)).fetchone() is not None


def agent_project(conn: sqlite3.Connection, name: str) -> str | None:
    """The project that owns agent ``name`` (None: not registered), as
    ``SqlRegistry.agent_project``."""
    row = conn.execute(
        "SELECT project FROM agent_versions WHERE name = ? LIMIT 1", (name,)
    ).fetchone()
    return None if row is None else str(row.project)


def in_default_project(conn: sqlite3.Connection, name: str) -> bool:
    """Whether the default project sees agent ``name`` and exists: what the fast paths,
    which read only the default project, check before they answer."""
    return project_exists(conn, "default") and agent_project(conn, name) in (None, "default")
