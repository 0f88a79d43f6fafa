"""Agent and policy versions in SQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Table, func, insert, select
from sqlalchemy.engine import Connection, Row

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import OwnedElsewhere
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.spec.artifacts import AgentVersion, AuditEvent, PolicyVersion
from agentdeck.store.base import SqlBase, as_utc, utcnow
from agentdeck.store.engine import advisory_lock
from agentdeck.store.registry_row import agent_row, policy_row
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import agent_versions, policy_versions

_AGENT_LOCK = 0x72656701
_POLICY_LOCK = 0x72656702


def _with_audit(event: AuditEvent, **extra: Any) -> AuditEvent:
    return replace(event, payload={**event.payload, **extra})


class SqlRegistry(SqlBase):
    def _put_version(
        self,
        table: Table,
        lock: int,
        name: str,
        digest: str,
        body: dict[str, Any],
        actor: str,
        audit: AuditEvent,
        project: str,
        **extra: Any,
    ) -> tuple[Row[Any] | None, int, datetime]:
        """Insert the next version of ``name`` in ``table`` unless ``digest`` is there already
        (then its row is returned and nothing is written), audited in the same transaction.
        A name another project registered first is refused (:class:`OwnedElsewhere`)."""
        with self._write() as conn:
            advisory_lock(conn, lock)
            owner = conn.execute(
                select(table.c.project).where(table.c.name == name).limit(1)
            ).scalar()
            if owner is not None and owner != project:
                raise OwnedElsewhere("agent" if table is agent_versions else "policy", name)
            row = conn.execute(select(table).where(table.c.digest == digest)).first()
            if row is not None:
                return row, int(row.version), as_utc(row.created_at)
            version = self._next_version(conn, table.c.version, table.c.name, name)
            now = utcnow()
            conn.execute(
                insert(table).values(
                    digest=digest,
                    name=name,
                    version=version,
                    spec=orjson.dumps(body).decode(),
                    created_at=now,
                    created_by=actor,
                    project=project,
                    **extra,
                )
            )
            append_audit_in(conn, _with_audit(audit, version=version, digest=digest))
        return None, version, now

    def put_agent_version(
        self, spec: AgentSpec, actor: str, audit: AuditEvent, project: str = DEFAULT_PROJECT
    ) -> tuple[AgentVersion, bool]:
        digest = spec.digest
        existing, version, now = self._put_version(
            agent_versions, _AGENT_LOCK, spec.name, digest, spec.to_dict(), actor, audit,
            project, prompt_digest=spec.prompt_digest, policy=spec.policy,
        )  # fmt: skip
        if existing is not None:
            return agent_row(existing), False
        return AgentVersion(spec.name, version, digest, spec, now, actor), True

    @staticmethod
    def _next_version(conn: Connection, version_col: Any, name_col: Any, name: str) -> int:
        current = conn.execute(select(func.max(version_col)).where(name_col == name)).scalar()
        return int(current or 0) + 1

    def get_agent_version(self, name: str, version: int) -> AgentVersion | None:
        with self._read() as conn:
            row = conn.execute(
                select(agent_versions).where(
                    agent_versions.c.name == name, agent_versions.c.version == version
                )
            ).first()
        return agent_row(row) if row else None

    def get_agent_by_digest(
        self, digest_prefix: str, name: str | None = None
    ) -> list[AgentVersion]:
        q = select(agent_versions).where(
            agent_versions.c.digest.startswith(digest_prefix, autoescape=True)
        )
        if name is not None:
            q = q.where(agent_versions.c.name == name)
        with self._read() as conn:
            rows = conn.execute(q.limit(5)).all()
        return [agent_row(r) for r in rows]

    def list_agent_versions(self, name: str) -> list[AgentVersion]:
        with self._read() as conn:
            rows = conn.execute(
                select(agent_versions)
                .where(agent_versions.c.name == name)
                .order_by(agent_versions.c.version)
            ).all()
        return [agent_row(r) for r in rows]

    def list_agent_names(self, project: str | None = None) -> list[str]:
        """Registered agent names, sorted; ``project``: only that project's."""
        q = select(agent_versions.c.name).distinct().order_by(agent_versions.c.name)
        if project is not None:
            q = q.where(agent_versions.c.project == project)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [r[0] for r in rows]

    def agent_project(self, name: str) -> str | None:
        """The project that owns agent ``name`` (None: not registered)."""
        return self._owner(agent_versions, name)

    def policy_project(self, name: str) -> str | None:
        """The project that owns policy ``name`` (None: not registered)."""
        return self._owner(policy_versions, name)

    def _owner(self, table: Table, name: str) -> str | None:
        with self._read() as conn:
            found = conn.execute(
                select(table.c.project).where(table.c.name == name).limit(1)
            ).scalar()
        return None if found is None else str(found)

    def put_policy_version(
        self, policy: PolicySet, actor: str, audit: AuditEvent, project: str = DEFAULT_PROJECT
    ) -> tuple[PolicyVersion, bool]:
        digest = policy.digest
        existing, version, now = self._put_version(
            policy_versions,
            _POLICY_LOCK,
            policy.name,
            digest,
            policy.to_dict(),
            actor,
            audit,
            project,
        )
        if existing is not None:
            return policy_row(existing), False
        return PolicyVersion(policy.name, version, digest, policy, now, actor), True

    def get_policy_version(self, name: str, version: int) -> PolicyVersion | None:
        with self._read() as conn:
            row = conn.execute(
                select(policy_versions).where(
                    policy_versions.c.name == name, policy_versions.c.version == version
                )
            ).first()
        return policy_row(row) if row else None

    def get_policy_by_digest(self, digest: str) -> PolicyVersion | None:
        with self._read() as conn:
            row = conn.execute(
                select(policy_versions).where(policy_versions.c.digest == digest)
            ).first()
        return policy_row(row) if row else None

    def list_policy_versions(self, name: str) -> list[PolicyVersion]:
        with self._read() as conn:
            rows = conn.execute(
                select(policy_versions)
                .where(policy_versions.c.name == name)
                .order_by(policy_versions.c.version)
            ).all()
        return [policy_row(r) for r in rows]
