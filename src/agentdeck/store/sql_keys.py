"""API keys in SQL: hashed secrets with scopes; creation and revocation are audited. UI sessions
(hashed tokens) live here too: revoking a key revokes its sessions in the same transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from agentdeck.core.access.records import ApiKeyRecord, SessionRecord
from agentdeck.core.errors import ConflictError, UnresolvedReferenceError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import api_keys, ui_sessions


def _key(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        name=row.name,
        secret_hash=row.secret_hash,
        scopes=tuple(s for s in row.scopes.split(",") if s),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at is not None else None,
        agents=tuple(a for a in (row.agents or "").split(",") if a),
        project=row.project,
        all_projects=bool(row.all_projects),
    )


def _session(row: Row[Any]) -> SessionRecord:
    return SessionRecord(
        token_hash=row.token_hash,
        key_id=row.key_id,
        created_at=as_utc(row.created_at),
        expires_at=as_utc(row.expires_at),
        last_seen_at=as_utc(row.last_seen_at),
        revoked_at=as_utc(row.revoked_at) if row.revoked_at is not None else None,
    )


class SqlKeys(SqlBase):
    def put_api_key(self, key: ApiKeyRecord, audit: AuditEvent) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    insert(api_keys).values(
                        id=key.id,
                        name=key.name,
                        secret_hash=key.secret_hash,
                        scopes=",".join(key.scopes),
                        created_at=key.created_at,
                        created_by=key.created_by,
                        revoked_at=key.revoked_at,
                        agents=",".join(key.agents) or None,
                        project=key.project,
                        all_projects=key.all_projects,
                    )
                )
                append_audit_in(conn, audit)
        except IntegrityError:
            raise ConflictError(f"an API key named {key.name!r} already exists") from None

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._read() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        return _key(row) if row else None

    def list_api_keys(self) -> list[ApiKeyRecord]:
        with self._read() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).all()
        return [_key(r) for r in rows]

    def revoke_api_key(self, id_or_name: str, at: datetime, audit: AuditEvent) -> ApiKeyRecord:
        match = or_(api_keys.c.id == id_or_name, api_keys.c.name == id_or_name)
        with self._write() as conn:
            row = conn.execute(select(api_keys).where(match)).first()
            if row is None:
                raise UnresolvedReferenceError(id_or_name, "no API key with that id or name")
            if row.revoked_at is None:
                conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(revoked_at=at))
                append_audit_in(conn, replace(audit, project=row.project))  # the key's project
            conn.execute(
                update(ui_sessions)
                .where(ui_sessions.c.key_id == row.id, ui_sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            row = conn.execute(select(api_keys).where(api_keys.c.id == row.id)).one()
        return _key(row)

    # -- UI sessions ---------------------------------------------------------------------------

    def put_session(self, session: SessionRecord) -> None:
        """Store a new session, and forget sessions that expired before it began."""
        with self._write() as conn:
            conn.execute(delete(ui_sessions).where(ui_sessions.c.expires_at < session.created_at))
            conn.execute(
                insert(ui_sessions).values(
                    token_hash=session.token_hash,
                    key_id=session.key_id,
                    created_at=session.created_at,
                    expires_at=session.expires_at,
                    last_seen_at=session.last_seen_at,
                    revoked_at=session.revoked_at,
                )
            )

    def get_session(self, token_hash: str) -> SessionRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(ui_sessions).where(ui_sessions.c.token_hash == token_hash)
            ).first()
        return _session(row) if row else None

    def touch_session(self, token_hash: str, at: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                update(ui_sessions)
                .where(ui_sessions.c.token_hash == token_hash)
                .values(last_seen_at=at)
            )

    def revoke_session(self, token_hash: str, at: datetime) -> None:
        with self._write() as conn:
            conn.execute(
                update(ui_sessions)
                .where(ui_sessions.c.token_hash == token_hash, ui_sessions.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
