"""Agent and policy versions read with stdlib ``sqlite3`` on a store opened by :mod:`.lite`:
:mod:`.sql_registry`'s SELECTs written out, each row converted by :mod:`.registry_row` (the SQL
store's conversion), for the CLI's fast ``versions``, ``show`` and ``policy versions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdeck.store.registry_row import agent_row, policy_row

if TYPE_CHECKING:
    import sqlite3

    from agentdeck.core.spec.artifacts import AgentVersion, PolicyVersion

__all__ = ["get_agent_version", "list_agent_versions", "list_policy_versions"]


def list_agent_versions(conn: sqlite3.Connection, name: str) -> list[AgentVersion]:
    rows = conn.execute(
        "SELECT * FROM agent_versions WHERE name = ? ORDER BY version", (name,)
    ).fetchall()
    return [agent_row(r) for r in rows]


def get_agent_version(conn: sqlite3.Connection, name: str, version: int) -> AgentVersion | None:
    row = conn.execute(
        "SELECT * FROM agent_versions WHERE name = ? AND version = ?", (name, version)
    ).fetchone()
    return None if row is None else agent_row(row)


def list_policy_versions(conn: sqlite3.Connection, name: str) -> list[PolicyVersion]:
    rows = conn.execute(
        "SELECT * FROM policy_versions WHERE name = ? ORDER BY version", (name,)
    ).fetchall()
    return [policy_row(r) for r in rows]
