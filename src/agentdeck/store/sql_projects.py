"""Projects in SQL: the ``projects`` table (migration ``0021_projects``) and which project
owns a run."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from agentdeck.core.access.projects import ProjectRecord
from agentdeck.core.errors import ConflictError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase, as_utc, utcnow
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import projects, runs

_IN_CHUNK = 1000


class SqlProjects(SqlBase):
    def create_project(self, name: str, actor: str, audit: AuditEvent) -> ProjectRecord:
        """Create project ``name`` (audited); an existing name is a :class:`ConflictError`."""
        now = utcnow()
        try:
            with self._write() as conn:
                conn.execute(insert(projects).values(name=name, created_at=now, created_by=actor))
                append_audit_in(conn, audit)
        except IntegrityError:
            raise ConflictError(f"name: project {name!r} exists already") from None
        return ProjectRecord(name, now, actor)

    def get_project(self, name: str) -> ProjectRecord | None:
        with self._read() as conn:
            row = conn.execute(select(projects).where(projects.c.name == name)).first()
        return ProjectRecord(row.name, as_utc(row.created_at), row.created_by) if row else None

    def list_projects(self) -> list[ProjectRecord]:
        with self._read() as conn:
            rows = conn.execute(select(projects).order_by(projects.c.name)).all()
        return [ProjectRecord(r.name, as_utc(r.created_at), r.created_by) for r in rows]

    def run_projects(self, trace_ids: Sequence[str]) -> dict[str, str]:
        """The project of each stored run among ``trace_ids`` (unknown ids left out)."""
        ids = list(dict.fromkeys(trace_ids))
        found: dict[str, str] = {}
        with self._read() as conn:
            for i in range(0, len(ids), _IN_CHUNK):
                rows = conn.execute(
                    select(runs.c.trace_id, runs.c.project).where(
                        runs.c.trace_id.in_(ids[i : i + _IN_CHUNK])
                    )
                ).all()
                found.update({r[0]: r[1] for r in rows})
        return found
