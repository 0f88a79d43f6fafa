"""A store whose traces live in ClickHouse and everything else in SQL.

:class:`CompositeStore` is a :class:`~agentdeck.store.sql.SqlStore` (registry, deployments,
audit, keys, policies, approvals, monitors' summaries, baselines, findings, alerts, evals and
replays stay on SQLite/PostgreSQL) whose trace methods go to :class:`ClickHouseTraces`: the
server's ingest, queries, monitors and UI call the same methods and do not know. The two
monitor reads that looked at the SQL ``runs`` table (runs without a summary, runs by
attribute) read ClickHouse's runs and SQL's ``run_summaries``.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.cost import CostTotal
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span
from agentdeck.core.trace.query import RunCount, RunQuery
from agentdeck.store.clickhouse.traces import ClickHouseTraces
from agentdeck.store.sql import SqlStore
from agentdeck.store.tables_monitor import run_summaries

__all__ = ["CompositeStore"]


def _default_project_only(project: str | None) -> None:
    """Fail closed: runs in ClickHouse are not kept per project yet, so only the default
    project (or every project) may list them."""
    if project not in (None, DEFAULT_PROJECT):
        raise InputError("project: runs kept in ClickHouse belong to the default project only")


_CHUNK = 1000
_NO_BACKFILL = "cost backfill: the ClickHouse trace store prices spans at ingest only"


class CompositeStore(SqlStore):
    """Traces in ClickHouse (:attr:`traces`), the rest in the SQL store of ``engine``."""

    def __init__(self, engine: Engine, traces: ClickHouseTraces, *, migrate: bool = True) -> None:
        super().__init__(engine, migrate=migrate)
        self.traces = traces

    # -- TraceStore -----------------------------------------------------------------------------

    def write_batch(
        self, runs_: Sequence[Run], spans_: Sequence[Span], *, provisional: Sequence[Run] = ()
    ) -> None:
        for r in (*runs_, *provisional):
            _default_project_only(r.project)
        ids = list(dict.fromkeys(r.trace_id for r in (*runs_, *provisional)))
        stale = self.traces.provisional_among(ids) if ids else []
        self.traces.write_batch(runs_, spans_, provisional=provisional)
        if stale:  # the window summaries of provisional runs that changed (sql_traces)
            with self._write() as conn:
                for i in range(0, len(stale), _CHUNK):
                    conn.execute(
                        delete(run_summaries).where(
                            run_summaries.c.trace_id.in_(stale[i : i + _CHUNK])
                        )
                    )

    def get_run(self, trace_id: str) -> Run | None:
        return self.traces.get_run(trace_id)

    def get_spans(self, trace_id: str) -> list[Span]:
        return self.traces.get_spans(trace_id)

    def find_runs(self, query: RunQuery) -> list[Run]:
        _default_project_only(query.project)
        return self.traces.find_runs(query)

    def count_runs(self, query: RunQuery, cap: int = 1000) -> RunCount:
        _default_project_only(query.project)
        return self.traces.count_runs(query, cap)

    def run_projects(self, trace_ids: Sequence[str]) -> dict[str, str]:
        """ClickHouse's runs carry no project yet: every run is the default project's, and
        :meth:`write_batch` refuses another project's (so no run of another is found here)."""
        return {}

    def get_runs_with_spans(self, trace_ids: Sequence[str]) -> list[tuple[Run, list[Span]]]:
        return self.traces.get_runs_with_spans(trace_ids)

    def trace_ids_with_prefix(
        self, prefix: str, limit: int = 3, project: str | None = None
    ) -> list[str]:
        _default_project_only(project)
        return self.traces.trace_ids_with_prefix(prefix, limit)

    # -- cost ---------------------------------------------------------------------------------

    def cost_totals(
        self,
        group_by: str,
        *,
        agent_name: str | None = None,
        agent_digest: str | None = None,
        env: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        limit: int = 1000,
        project: str | None = None,
    ) -> list[CostTotal]:
        _default_project_only(project)
        return self.traces.cost_totals(
            group_by,
            agent_name=agent_name,
            agent_digest=agent_digest,
            env=env,
            since_ns=since_ns,
            until_ns=until_ns,
            limit=limit,
        )

    def unpriced_spans(self, after: tuple[str, str] | None = None, limit: int = 1000) -> list[Span]:
        raise InputError(_NO_BACKFILL)

    def set_span_costs(self, costs: Sequence[tuple[str, str, float]]) -> int:
        raise InputError(_NO_BACKFILL)

    # -- the monitor reads of runs --------------------------------------------------------------

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
        if trace_ids is not None and not trace_ids:
            return []
        candidates = self.traces.window_trace_ids(
            agent_name, env, since_ns, until_ns, agent_digest, trace_ids
        )
        out: list[str] = []
        with self._read() as conn:
            for i in range(0, len(candidates), _CHUNK):
                part = candidates[i : i + _CHUNK]
                done = {
                    r[0]
                    for r in conn.execute(
                        select(run_summaries.c.trace_id).where(run_summaries.c.trace_id.in_(part))
                    )
                }
                out.extend(t for t in part if t not in done)
                if len(out) >= limit:
                    return out[:limit]
        return out

    def trace_ids_with_attribute(
        self, key: str, value: str, agent_name: str | None = None
    ) -> list[str]:
        out = []
        for tid, attrs in self.traces.runs_with_attribute_text(key, agent_name):
            parsed = orjson.loads(attrs) if attrs else {}
            if isinstance(parsed, dict) and str(parsed.get(key)) == value:
                out.append(tid)
        return out

    def close(self) -> None:
        self.traces.close()
        super().close()
