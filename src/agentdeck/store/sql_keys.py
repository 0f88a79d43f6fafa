"""API keys in SQL: hashed secrets with scopes; creation and revocation are audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from agentdeck.core.artifacts import AuditEvent
from agentdeck.core.errors import ConflictError, ReferenceError_
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.protocol import ApiKeyRecord
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import api_keys


def _key(row: Row[Any]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        name=row.name,
        secret_hash=row.secret_hash,
        scopes=tuple(s for s in row.scopes.split(",") if s),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
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
                raise ReferenceError_(id_or_name, "no API key with that id or name")
            if row.revoked_at is None:
                conn.execute(update(api_keys).where(api_keys.c.id == row.id).values(revoked_at=at))
                append_audit_in(conn, audit)
            row = conn.execute(select(api_keys).where(api_keys.c.id == row.id)).one()
        return _key(row)
