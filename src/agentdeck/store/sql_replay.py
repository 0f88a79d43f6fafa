"""Replay reports in SQL: insert once, get by id, list newest first with filters."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from agentdeck.core.errors import ConflictError
from agentdeck.core.trace.records import ReplayReportRecord
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.project_clause import agent_of_project
from agentdeck.store.tables_replay import replay_reports


def _record(row: Row[Any]) -> ReplayReportRecord:
    return ReplayReportRecord(
        id=row.id,
        kind=row.kind,
        source_trace_id=row.source_trace_id,
        replay_trace_id=row.replay_trace_id,
        agent_name=row.agent_name,
        candidate_digest=row.candidate_digest,
        outcome=row.outcome,
        score=row.score,
        created_at=as_utc(row.created_at),
        report=orjson.loads(row.report),
    )


class SqlReplay(SqlBase):
    def put_replay_report(self, record: ReplayReportRecord) -> None:
        try:
            with self._write() as conn:
                conn.execute(
                    insert(replay_reports).values(
                        id=record.id,
                        kind=record.kind,
                        source_trace_id=record.source_trace_id,
                        replay_trace_id=record.replay_trace_id,
                        agent_name=record.agent_name,
                        candidate_digest=record.candidate_digest,
                        outcome=record.outcome,
                        score=record.score,
                        created_at=record.created_at,
                        report=orjson.dumps(record.report).decode(),
                    )
                )
        except IntegrityError:
            raise ConflictError(f"a replay report with id {record.id!r} already exists") from None

    def get_replay_report(self, report_id: str) -> ReplayReportRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(replay_reports).where(replay_reports.c.id == report_id)
            ).first()
        return _record(row) if row else None

    def list_replay_reports(
        self,
        *,
        source_trace_id: str | None = None,
        agent_name: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        project: str | None = None,
    ) -> list[ReplayReportRecord]:
        c = replay_reports.c
        q = select(replay_reports)
        if project is not None:
            q = q.where(agent_of_project(c.agent_name, project))
        if source_trace_id is not None:
            q = q.where(c.source_trace_id == source_trace_id)
        if agent_name is not None:
            q = q.where(c.agent_name == agent_name)
        if kind is not None:
            q = q.where(c.kind == kind)
        q = q.order_by(c.created_at.desc(), c.id.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [_record(r) for r in rows]
