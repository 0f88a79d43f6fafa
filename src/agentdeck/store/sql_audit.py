"""The audit chain in SQL: append under the chain head's lock, read in order."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from agentdeck.core.access.projects import DEFAULT_PROJECT, SERVER_WIDE
from agentdeck.core.deploy.audit_chain import GENESIS, AuditEntry, entry_hash
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase
from agentdeck.store.deploy_row import audit_entry_row
from agentdeck.store.engine import lock_row_clause
from agentdeck.store.tables import audit_head, audit_log


def append_audit_in(conn: Connection, event: AuditEvent) -> AuditEntry:
    """Append ``event`` inside the caller's write transaction (serialized on the head row)."""
    q = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if lock_row_clause(conn):
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        seq, prev = 1, GENESIS
    else:
        seq, prev = int(row.seq) + 1, str(row.hash)
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    payload = dict(event.payload)
    if payload.get("project", event.project) != event.project:
        raise ValueError(
            f"audit payload names project {payload['project']!r}, not {event.project!r}"
        )
    if event.project != DEFAULT_PROJECT:
        payload["project"] = event.project
    else:
        payload.pop("project", None)
    h = entry_hash(seq, at, event.actor, event.action, event.subject, payload, prev)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            payload=orjson.dumps(payload).decode(),
            prev_hash=prev,
            hash=h,
            project=event.project,
        )
    )
    if row is None:
        conn.execute(insert(audit_head).values(id=1, seq=seq, hash=h))
    else:
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=h))
    return AuditEntry(
        seq, at, event.actor, event.action, event.subject, payload, prev, h, event.project
    )


class SqlAudit(SqlBase):
    def append_audit(self, event: AuditEvent) -> AuditEntry:
        with self._write() as conn:
            return append_audit_in(conn, event)

    def audit_entries(
        self, subject: str | None = None, action_prefix: str | None = None
    ) -> list[AuditEntry]:
        """Entries in stored physical order of their sequence numbers as they appear; only
        those about ``subject`` whose action starts with ``action_prefix``, when given."""
        q = select(audit_log).order_by(audit_log.c.seq)
        if subject is not None:
            q = q.where(audit_log.c.subject == subject)
        if action_prefix is not None:
            q = q.where(audit_log.c.action.startswith(action_prefix, autoescape=True))
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [audit_entry_row(r) for r in rows]

    def audit_log(self, project: str, limit: int) -> list[AuditEntry]:
        """The newest ``limit`` entries of ``project`` and the server-wide ones, oldest first
        (an index range on ``(project, seq)``)."""
        q = (
            select(audit_log)
            .where(audit_log.c.project.in_((project, SERVER_WIDE)))
            .order_by(audit_log.c.seq.desc())
            .limit(limit)
        )
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [audit_entry_row(r) for r in reversed(rows)]

    def audit_head(self) -> tuple[int, str] | None:
        with self._read() as conn:
            row = conn.execute(
                select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
            ).first()
        return (int(row.seq), str(row.hash)) if row else None
