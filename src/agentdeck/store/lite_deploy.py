"""Deployments, the promotion path and audit entries read with stdlib ``sqlite3`` on a store
opened by :mod:`.lite`: :mod:`.sql_deploy`'s and :mod:`.sql_audit`'s SELECTs written out, each
row converted by :mod:`.deploy_row` (the SQL store's conversion), for the CLI's fast
``history``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdeck.core.deploy.model import DEFAULT_PATH
from agentdeck.store.deploy_row import audit_entry_row, deployment_row

if TYPE_CHECKING:
    import sqlite3

    from agentdeck.core.deploy.audit_chain import AuditEntry
    from agentdeck.core.deploy.model import Deployment

__all__ = ["audit_entries", "history", "promotion_path"]


def promotion_path(conn: sqlite3.Connection) -> tuple[str, ...]:
    rows = conn.execute("SELECT name FROM environments ORDER BY position").fetchall()
    return tuple(r.name for r in rows) or DEFAULT_PATH


def history(conn: sqlite3.Connection, agent_name: str, env: str) -> list[Deployment]:
    rows = conn.execute(
        "SELECT * FROM deployments WHERE agent_name = ? AND env = ? ORDER BY seq",
        (agent_name, env),
    ).fetchall()
    return [deployment_row(r) for r in rows]


def audit_entries(
    conn: sqlite3.Connection, subject: str | None = None, action_prefix: str | None = None
) -> list[AuditEntry]:
    """As ``SqlAudit.audit_entries``: the prefix matched by ``LIKE`` with ``/`` escaping, as
    SQLAlchemy's ``startswith(..., autoescape=True)`` writes it."""
    sql, where, args = "SELECT * FROM audit_log", [], list[Any]()
    if subject is not None:
        where.append("subject = ?")
        args.append(subject)
    if action_prefix is not None:
        escaped = action_prefix.replace("/", "//").replace("%", "/%").replace("_", "/_")
        where.append("action LIKE ? || '%' ESCAPE '/'")
        args.append(escaped)
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = conn.execute(sql + " ORDER BY seq", args).fetchall()
    return [audit_entry_row(r) for r in rows]
