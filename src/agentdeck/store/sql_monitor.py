"""Monitoring in SQL: run summaries (bulk, streamed), baselines, findings and alerts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from agentdeck.core.behaviour.records import (
    AlertRecord,
    BaselineRecord,
    FindingRecord,
    RunSummaryRow,
)
from agentdeck.core.errors import ConflictError
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.engine import insert_ignore_sql
from agentdeck.store.project_clause import agent_of_project
from agentdeck.store.tables import runs
from agentdeck.store.tables_monitor import alerts, baselines, findings, run_summaries

_CHUNK = 5000  # rows fetched per round trip when streaming summaries
_IN_CHUNK = 500  # trace ids per IN (...) list


def _baseline(r: Row[Any]) -> BaselineRecord:
    return BaselineRecord(
        name=r.name,
        agent_name=r.agent_name,
        agent_digest=r.agent_digest,
        env=r.env,
        selection=r.selection,
        n_runs=int(r.n_runs),
        created_at=as_utc(r.created_at),
        created_by=r.created_by,
        profile=r.profile,
    )


def _finding(r: Row[Any]) -> FindingRecord:
    return FindingRecord(
        id=r.id,
        trace_id=r.trace_id,
        span_id=r.span_id,
        agent_name=r.agent_name,
        env=r.env,
        check=r.check_name,
        severity=r.severity,
        explanation=r.explanation,
        at=as_utc(r.at),
    )


def _alert(r: Row[Any]) -> AlertRecord:
    return AlertRecord(
        id=r.id,
        rule=r.rule,
        subject=r.subject,
        agent_name=r.agent_name,
        env=r.env,
        severity=r.severity,
        status=r.status,
        message=r.message,
        value=None if r.value is None else float(r.value),
        opened_at=as_utc(r.opened_at),
        last_seen_at=as_utc(r.last_seen_at),
        updated_at=as_utc(r.updated_at),
        updated_by=r.updated_by,
        action=r.action,
    )


def _alert_values(a: AlertRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "rule": a.rule,
        "subject": a.subject,
        "agent_name": a.agent_name,
        "env": a.env,
        "severity": a.severity,
        "status": a.status,
        "message": a.message,
        "value": a.value,
        "opened_at": a.opened_at,
        "last_seen_at": a.last_seen_at,
        "updated_at": a.updated_at,
        "updated_by": a.updated_by,
        "action": a.action,
    }


def _window(
    table: Any,
    agent_name: str,
    env: str | None,
    since_ns: int | None,
    until_ns: int | None,
    agent_digest: str | None,
) -> list[ColumnElement[bool]]:
    c = table.c
    conds: list[ColumnElement[bool]] = [c.agent_name == agent_name]
    if env is not None:
        conds.append(c.env == env)
    if since_ns is not None:
        conds.append(c.start_ns >= since_ns)
    if until_ns is not None:
        conds.append(c.start_ns < until_ns)
    if agent_digest is not None:
        conds.append(c.agent_digest == agent_digest)
    return conds


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(ids), _IN_CHUNK):
        yield ids[i : i + _IN_CHUNK]


class SqlMonitor(SqlBase):
    # -- run summaries -------------------------------------------------------------------------

    def put_run_summaries(self, rows: Sequence[RunSummaryRow]) -> None:
        if not rows:
            return
        with self._write() as conn:
            conn.exec_driver_sql(
                insert_ignore_sql(conn, run_summaries),
                [
                    (r.trace_id, r.agent_name, r.agent_digest, r.env, r.start_ns, r.summary)
                    for r in rows
                ],
            )

    def iter_run_summaries(
        self,
        agent_name: str,
        env: str | None,
        since_ns: int | None,
        until_ns: int | None,
        agent_digest: str | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> Iterator[str]:
        conds = _window(run_summaries, agent_name, env, since_ns, until_ns, agent_digest)
        if trace_ids is not None:
            for part in _chunks(trace_ids):
                q = select(run_summaries.c.summary).where(
                    and_(*conds, run_summaries.c.trace_id.in_(part))
                )
                with self._read() as conn:
                    rows = conn.execute(q).all()
                for (text,) in rows:
                    yield text
            return
        # One streamed query (a server-side cursor on PostgreSQL): bounded memory. Keyset
        # pages were measured ~5x slower on SQLite (the OR on (start_ns, trace_id) defeats the
        # index), and reads do not block the writer (WAL / MVCC).
        q = select(run_summaries.c.summary).where(and_(*conds))
        with self._read() as conn:
            result = conn.execution_options(stream_results=True, yield_per=_CHUNK).execute(q)
            for (text,) in result:
                yield text

    def runs_without_summary(
        self,
        agent_name: str,
        env: str | None,
        since_ns: int | None,
        until_ns: int | None,
        agent_digest: str | None = None,
        trace_ids: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[str]:
        conds = _window(runs, agent_name, env, since_ns, until_ns, agent_digest)
        conds.append(runs.c.end_ns.is_not(None))
        done = select(run_summaries.c.trace_id).where(run_summaries.c.trace_id == runs.c.trace_id)
        out: list[str] = []
        parts: list[Sequence[str] | None] = list(_chunks(trace_ids)) if trace_ids else [None]
        if trace_ids is not None and not trace_ids:
            return []
        with self._read() as conn:
            for part in parts:
                q = select(runs.c.trace_id).where(and_(*conds), ~done.exists())
                if part is not None:
                    q = q.where(runs.c.trace_id.in_(part))
                out.extend(r[0] for r in conn.execute(q.limit(limit - len(out))).all())
                if len(out) >= limit:
                    break
        return out

    def trace_ids_with_attribute(
        self, key: str, value: str, agent_name: str | None = None
    ) -> list[str]:
        # Attributes are a JSON text column: a LIKE narrows, the parsed JSON decides.
        q = select(runs.c.trace_id, runs.c.attributes).where(
            runs.c.attributes.contains(key, autoescape=True)
        )
        if agent_name is not None:
            q = q.where(runs.c.agent_name == agent_name)
        with self._read() as conn:
            rows = conn.execute(q).all()
        out = []
        for tid, attrs in rows:
            parsed = orjson.loads(attrs) if attrs else {}
            if isinstance(parsed, dict) and str(parsed.get(key)) == value:
                out.append(tid)
        return out

    # -- baselines -----------------------------------------------------------------------------

    def put_baseline(self, baseline: BaselineRecord) -> None:
        b = baseline
        try:
            with self._write() as conn:
                conn.execute(
                    insert(baselines).values(
                        name=b.name,
                        agent_name=b.agent_name,
                        agent_digest=b.agent_digest,
                        env=b.env,
                        selection=b.selection,
                        n_runs=b.n_runs,
                        created_at=b.created_at,
                        created_by=b.created_by,
                        profile=b.profile,
                    )
                )
        except IntegrityError:
            raise ConflictError(f"a baseline named {b.name!r} already exists") from None

    def get_baseline(self, name: str) -> BaselineRecord | None:
        with self._read() as conn:
            row = conn.execute(select(baselines).where(baselines.c.name == name)).first()
        return _baseline(row) if row else None

    def list_baselines(self, agent_name: str | None = None) -> list[BaselineRecord]:
        q = select(baselines)
        if agent_name is not None:
            q = q.where(baselines.c.agent_name == agent_name)
        with self._read() as conn:
            rows = conn.execute(q.order_by(baselines.c.created_at, baselines.c.name)).all()
        return [_baseline(r) for r in rows]

    def latest_baseline(self, agent_name: str, env: str | None) -> BaselineRecord | None:
        c = baselines.c
        order = (c.created_at.desc(), c.name.desc())
        with self._read() as conn:
            if env is not None:
                row = conn.execute(
                    select(baselines)
                    .where(c.agent_name == agent_name, c.env == env)
                    .order_by(*order)
                    .limit(1)
                ).first()
                if row is not None:
                    return _baseline(row)
            row = conn.execute(
                select(baselines)
                .where(c.agent_name == agent_name, c.env.is_(None))
                .order_by(*order)
                .limit(1)
            ).first()
        return _baseline(row) if row else None

    # -- findings ------------------------------------------------------------------------------

    def put_findings(self, rows: Sequence[FindingRecord]) -> None:
        if not rows:
            return
        unique = {f.id: f for f in rows}
        with self._write() as conn:
            seen: set[str] = set()
            for part in _chunks(list(unique)):
                seen.update(
                    r[0] for r in conn.execute(select(findings.c.id).where(findings.c.id.in_(part)))
                )
            new = [f for fid, f in unique.items() if fid not in seen]
            if new:
                conn.execute(
                    insert(findings),
                    [
                        {
                            "id": f.id,
                            "trace_id": f.trace_id,
                            "span_id": f.span_id,
                            "agent_name": f.agent_name,
                            "env": f.env,
                            "check_name": f.check,
                            "severity": f.severity,
                            "explanation": f.explanation,
                            "at": f.at,
                        }
                        for f in new
                    ],
                )

    def list_findings(
        self,
        agent_name: str | None = None,
        check: str | None = None,
        trace_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        project: str | None = None,
    ) -> list[FindingRecord]:
        c = findings.c
        q = select(findings)
        if project is not None:
            q = q.where(agent_of_project(c.agent_name, project))
        if agent_name is not None:
            q = q.where(c.agent_name == agent_name)
        if check is not None:
            q = q.where(c.check_name == check)
        if trace_id is not None:
            q = q.where(c.trace_id == trace_id)
        if since is not None:
            q = q.where(c.at >= since)
        q = q.order_by(c.at.desc(), c.trace_id, c.id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [_finding(r) for r in rows]

    def count_findings(
        self, check: str, since: datetime, until: datetime, severities: Sequence[str]
    ) -> list[tuple[str | None, str | None, int]]:
        c = findings.c
        q = (
            select(c.agent_name, c.env, func.count())
            .where(c.check_name == check, c.at >= since, c.at < until, c.severity.in_(severities))
            .group_by(c.agent_name, c.env)
        )
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [(r[0], r[1], int(r[2])) for r in rows]

    # -- alerts --------------------------------------------------------------------------------

    def put_alert(self, alert: AlertRecord) -> None:
        with self._write() as conn:
            conn.execute(insert(alerts).values(**_alert_values(alert)))

    def update_alert(self, alert: AlertRecord) -> None:
        values = _alert_values(alert)
        del values["id"]
        with self._write() as conn:
            conn.execute(update(alerts).where(alerts.c.id == alert.id).values(**values))

    def get_alert(self, alert_id: str) -> AlertRecord | None:
        with self._read() as conn:
            rows = conn.execute(
                select(alerts).where(alerts.c.id.startswith(alert_id, autoescape=True)).limit(2)
            ).all()
        return _alert(rows[0]) if len(rows) == 1 else None

    def list_alerts(
        self,
        statuses: Sequence[str] | None = None,
        rule: str | None = None,
        subject: str | None = None,
        limit: int = 200,
        project: str | None = None,
    ) -> list[AlertRecord]:
        c = alerts.c
        q = select(alerts)
        if project is not None:
            q = q.where(agent_of_project(c.agent_name, project))
        if statuses is not None:
            q = q.where(c.status.in_(statuses))
        if rule is not None:
            q = q.where(c.rule == rule)
        if subject is not None:
            q = q.where(c.subject == subject)
        q = q.order_by(c.opened_at.desc(), c.id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [_alert(r) for r in rows]
