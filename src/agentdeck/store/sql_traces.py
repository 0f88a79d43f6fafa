"""Runs and spans in SQL: idempotent batched writes and the queries tracing needs.

Spans are inserted or ignored by (trace id, span id). Runs follow one rule, applied in SQL so
that concurrent writers (PostgreSQL) and merged batches (the SQLite writer thread) agree without
reading first: **a real run is written once; a provisional run only stands in for it.**
A provisional run (:data:`~agentdeck.core.trace.model.PROVISIONAL`: derived by the OTLP receiver from
the child spans of a trace whose root has not arrived) is

- inserted when the trace has no run;
- merged into a provisional run already stored: the time range widens (earliest start, latest
  end), the status only ever escalates to ``error`` (keeping the first error), and agent, env
  and deployment are filled in where still empty;
- dropped when the trace already has a real run.

A real run (root span or run stamp) is inserted, replaces a provisional run whole, and is
dropped when the trace already has a real run (first writer wins, as before). Both rules are
``INSERT ... ON CONFLICT DO UPDATE ... WHERE <stored row is provisional>``: idempotent (a
re-sent batch changes nothing), and the outcome does not depend on arrival order except for
which of several errors or agents a provisional run keeps (the first stored; the real run
settles both). No migration is needed: the
marker is the first key of the ``attributes`` JSON (:func:`run_tuple` writes it there), so a
stored row is recognized as provisional by comparing a prefix, the same on both backends and
with no JSON parsing in SQL.

A run's summary columns ``tool_errors`` and ``denied_calls`` are counted from its stored spans
in the same transaction, for every run the batch writes and every run whose trace gained a
failed tool span: whatever the order in which a run and its spans arrive (the SDK sends a run
after its spans, an OTLP trace may come in many requests), the counts are those of the spans
stored so far, and re-sending a batch changes nothing. A *tool error* is a tool span that
failed (status ``error``), for any reason; it is also *denied* when its attributes hold
``"tool.denied":true`` (compact JSON, as :func:`span_tuple` writes it): a policy stopped it.

A run's ``session_id`` and ``user_id`` are filled in wherever a batch knows them and the stored
run does not (:func:`_fill_who`); the first value stored stays. Its tokens and cost are summed
from its spans by :mod:`agentdeck.store.sql_cost`, the same way as the counts.

The tools each run called are kept in ``run_tools`` (one row per trace and tool name, written
with the batch's tool spans, insert-or-ignore) with the run's start time, set from the stored
run whenever the batch touches the trace (its run, a provisional run, or new tool spans), so
the tool filter of :func:`run_list_sql` is an index range in the list's order and never reads
spans. Tool spans that arrive before their run carry the earliest span start until then.

A provisional run's summary for window checks (``run_summaries``, back-filled from spans) is
dropped in the same transaction whenever a batch carries a run or a provisional run of its
trace (every OTLP request with spans of the trace does), so that the next window check or
baseline re-summarizes it with the new spans, or the per-run check of the real run writes it
anew. A real run's summary is never touched here.

An LLM span's context window is stored once per run: its messages go to the ``messages``
table and the span keeps references (:mod:`agentdeck.store.sql_messages`); reads put them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from agentdeck.core.cost import PriceSource
from agentdeck.core.trace.model import (
    PROVISIONAL,
    Run,
    Span,
    SpanKind,
    SpanStatus,
)
from agentdeck.core.trace.query import RunCount, RunQuery, prefix_range
from agentdeck.prices import default_prices
from agentdeck.store import sql_cost, sql_messages, sql_search
from agentdeck.store.base import SqlBase
from agentdeck.store.engine import insert_ignore_sql, is_sqlite, param_mark, upsert_sql
from agentdeck.store.run_agent import settle_agents
from agentdeck.store.run_row import row_run as row_run  # (the ClickHouse store)
from agentdeck.store.span_row import row_span as row_span  # (ClickHouse, sql_cost)
from agentdeck.store.sql_run_list import run_list_sql as run_list_sql  # (the EXPLAIN tests)
from agentdeck.store.tables import run_tools, runs, spans
from agentdeck.store.tables_monitor import run_summaries

_dumps = orjson.dumps


def _j(value: Any) -> str | None:
    return None if value is None else _dumps(value).decode()


def _l(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def span_row(s: Span) -> dict[str, Any]:
    return dict(zip(_SPAN_COLS, span_tuple(s), strict=True))


_SPAN_COLS = [c.name for c in spans.columns]
_RUN_COLS = [c.name for c in runs.columns]


def span_tuple(s: Span, cost_usd: float | None = None) -> tuple[Any, ...]:
    """A span as a row tuple in the ``spans`` table's column order (its cost: ``cost_usd``
    when given, priced at ingest)."""
    u = s.usage
    return (
        s.trace_id,
        s.span_id,
        s.parent_id,
        s.seq,
        s.name,
        s.kind.value,
        s.tool_name,
        s.start_ns,
        s.end_ns,
        s.status.value,
        s.error,
        _j(s.inputs),
        _j(s.outputs),
        _j(s.attributes) if s.attributes else None,
        _j([[ln.trace_id, ln.span_id, ln.kind.value] for ln in s.links]) if s.links else None,
        u.input_tokens if u else None,
        u.output_tokens if u else None,
        _j([u.input_tokens, u.output_tokens, u.cache_read_tokens, u.reasoning_tokens])
        if u
        else None,
        s.cost_usd if cost_usd is None else cost_usd,
    )


def _run_attributes(run: Run) -> str | None:
    """The attributes as JSON, the provisional marker first (what :data:`_IS_PROVISIONAL`
    recognizes)."""
    a = run.attributes
    if not a:
        return None
    if run.provisional and next(iter(a)) != PROVISIONAL:
        a = {PROVISIONAL: True, **{k: v for k, v in a.items() if k != PROVISIONAL}}
    return _j(a)


def run_tuple(run: Run) -> tuple[Any, ...]:
    """A run as a row tuple in the ``runs`` table's column order."""
    return (
        run.trace_id,
        run.agent_name,
        run.agent_version,
        run.agent_digest,
        run.env,
        run.deployment_id,
        run.start_ns,
        run.end_ns,
        run.status.value,
        run.error,
        _j(run.input),
        _j(run.output),
        run.root_span_id,
        _run_attributes(run),
        0,  # tool_errors and denied_calls: counted from the stored spans (_recount)
        0,
        run.outcome.value if run.outcome is not None else None,
        run.outcome_score,
        run.outcome_reason,
        run.session_id,
        run.user_id,
        run.canary_arm,
        run.input_tokens,  # tokens and cost: summed from the stored spans (sql_cost)
        run.output_tokens,
        run.total_tokens,
        run.cost_usd,
        run.unpriced_calls,
        run.project,  # set on insert only: an update never moves a run to another project
    )


_MARKER = _dumps({PROVISIONAL: True}).decode()[:-1]  # '{"agentdeck.run.provisional":true'
assert "'" not in _MARKER and "%" not in _MARKER and "?" not in _MARKER
_IS_PROVISIONAL = f"substr(runs.attributes, 1, {len(_MARKER)}) = '{_MARKER}'"
"""SQL: the stored ``runs`` row is provisional."""

# A real run replaces a provisional one whole, but for the session and user a provisional
# run learnt from spans the real run did not see.
_WHO = ("session_id", "user_id")
_REPLACE = {
    c: f"COALESCE(excluded.{c}, runs.{c})" if c in _WHO else f"excluded.{c}"
    for c in _RUN_COLS
    if c not in ("trace_id", "project")
}

# A provisional run widens a provisional one (see the module docstring).
_AGENT_UNSET = "runs.agent_name IS NULL"
_ESCALATES = "excluded.status = 'error' AND runs.status <> 'error'"
_WIDEN = {
    "start_ns": "CASE WHEN excluded.start_ns < runs.start_ns "
    "THEN excluded.start_ns ELSE runs.start_ns END",
    "end_ns": "CASE WHEN runs.end_ns IS NULL OR excluded.end_ns > runs.end_ns "
    "THEN excluded.end_ns ELSE runs.end_ns END",
    "status": f"CASE WHEN {_ESCALATES} THEN excluded.status ELSE runs.status END",
    "error": f"CASE WHEN {_ESCALATES} THEN excluded.error ELSE runs.error END",
    **{
        c: f"CASE WHEN {_AGENT_UNSET} THEN excluded.{c} ELSE runs.{c} END"
        for c in ("agent_name", "agent_version", "agent_digest")
    },
    "env": "COALESCE(runs.env, excluded.env)",
    "deployment_id": "COALESCE(runs.deployment_id, excluded.deployment_id)",
    "canary_arm": "COALESCE(runs.canary_arm, excluded.canary_arm)",
    **{c: f"COALESCE(runs.{c}, excluded.{c})" for c in _WHO},
}


COUNT_CAP = 1000
"""Runs counted exactly by :meth:`SqlTraces.count_runs`; beyond, an estimate."""

_RUN_SQL: dict[str, tuple[str, str]] = {}
_IN_CHUNK = 1000


def _run_sql(conn: Connection) -> tuple[str, str]:
    """(upsert real runs, merge provisional runs) in the connection's dialect, built once."""
    found = _RUN_SQL.get(conn.dialect.name)
    if found is None:
        found = (
            upsert_sql(conn, runs, _REPLACE, _IS_PROVISIONAL),
            upsert_sql(conn, runs, _WIDEN, _IS_PROVISIONAL),
        )
        _RUN_SQL[conn.dialect.name] = found
    return found


def _forget_provisional_summaries(conn: Connection, trace_ids: Sequence[str]) -> None:
    """Delete the window summaries of those traces whose stored run is provisional (before
    the runs are written). One statement per chunk, probing ``run_summaries`` by key first:
    almost always empty for the traces of a batch, so it costs about nothing."""
    mark = param_mark(conn)
    for i in range(0, len(trace_ids), _IN_CHUNK):
        part = tuple(trace_ids[i : i + _IN_CHUNK])
        conn.exec_driver_sql(
            f"DELETE FROM {run_summaries.name} WHERE trace_id IN ({', '.join([mark] * len(part))})"
            f" AND EXISTS (SELECT 1 FROM runs WHERE runs.trace_id = {run_summaries.name}.trace_id"
            f" AND {_IS_PROVISIONAL})",
            part,
        )


_DENIED_LIKE = '%"tool.denied":true%'
_FAILED_TOOL = "kind = 'tool' AND status = 'error'"  # the predicate of ix_spans_failed_tools


def _recount(conn: Connection, trace_ids: Sequence[str]) -> None:
    """Set the counts of those runs (module docstring) from their failed tool spans: one
    SELECT per chunk through the partial index ``ix_spans_failed_tools`` (it holds only failed
    tool spans, so runs without any cost an index probe), then an UPDATE of the runs whose
    stored counts differ. A run written by this batch starts at zero (:func:`run_tuple`)."""
    mark = param_mark(conn)
    found: list[tuple[int, int, str, int, int]] = []
    for i in range(0, len(trace_ids), _IN_CHUNK):
        part = tuple(trace_ids[i : i + _IN_CHUNK])
        rows = conn.exec_driver_sql(
            "SELECT trace_id, COUNT(*),"
            f" SUM(CASE WHEN attributes LIKE {mark} THEN 1 ELSE 0 END)"
            f" FROM spans WHERE {_FAILED_TOOL} AND trace_id IN ({', '.join([mark] * len(part))})"
            " GROUP BY trace_id",
            (_DENIED_LIKE, *part),
        ).all()
        found.extend((int(n), int(d or 0), t, int(n), int(d or 0)) for t, n, d in rows)
    if found:
        conn.exec_driver_sql(
            f"UPDATE runs SET tool_errors = {mark}, denied_calls = {mark}"
            f" WHERE trace_id = {mark} AND (tool_errors <> {mark} OR denied_calls <> {mark})",
            found,
        )


def _note_tools(conn: Connection, spans_: Sequence[Span]) -> list[str]:
    """Insert-or-ignore a ``run_tools`` row for each (trace, tool) of the batch's tool spans,
    with the earliest span start as the run's start until the run is known; the traces."""
    found: dict[tuple[str, str], int] = {}
    for s in spans_:
        if s.tool_name is not None:
            key = (s.trace_id, s.tool_name)
            start = found.get(key)
            if start is None or s.start_ns < start:
                found[key] = s.start_ns
    if found:
        conn.exec_driver_sql(
            insert_ignore_sql(conn, run_tools), [(t, n, st) for (t, n), st in found.items()]
        )
    return [t for t, _ in found]


def _sync_tool_starts(conn: Connection, trace_ids: Sequence[str]) -> None:
    """Set the start of those traces' ``run_tools`` rows to their run's start where it differs
    (the tool filter orders and pages by it), one UPDATE per chunk by primary key prefix."""
    mark = param_mark(conn)
    for i in range(0, len(trace_ids), _IN_CHUNK):
        part = tuple(trace_ids[i : i + _IN_CHUNK])
        conn.exec_driver_sql(
            "UPDATE run_tools SET start_ns ="
            " (SELECT runs.start_ns FROM runs WHERE runs.trace_id = run_tools.trace_id)"
            f" WHERE run_tools.trace_id IN ({', '.join([mark] * len(part))})"
            " AND EXISTS (SELECT 1 FROM runs WHERE runs.trace_id = run_tools.trace_id"
            " AND runs.start_ns <> run_tools.start_ns)",
            part,
        )


def _fill_who(conn: Connection, found: Sequence[Run]) -> None:
    """Fill in a stored run's missing session and user from runs of this batch that know
    them: a provisional run derived from spans that arrived after the real run (which the
    upsert drops) still names the session. The first known value stays."""
    known = [(r.session_id, r.user_id, r.trace_id) for r in found if r.session_id or r.user_id]
    if not known:
        return
    mark = param_mark(conn)
    conn.exec_driver_sql(
        f"UPDATE runs SET session_id = COALESCE(session_id, {mark}),"
        f" user_id = COALESCE(user_id, {mark})"
        f" WHERE trace_id = {mark} AND (session_id IS NULL OR user_id IS NULL)",
        known,
    )


class SqlTraces(SqlBase):
    prices: PriceSource | None = None  # LLM calls priced at ingest (sql_cost); default_prices

    def write_batch(
        self, runs_: Sequence[Run], spans_: Sequence[Span], *, provisional: Sequence[Run] = ()
    ) -> None:
        """Write spans, real runs and provisional runs in one transaction (module docstring)."""
        if not runs_ and not spans_ and not provisional:
            return
        costs = sql_cost.span_costs(spans_, self.prices or default_prices()) if spans_ else []
        with self._write() as conn:
            if spans_:
                stored, message_rows = sql_messages.split(spans_)
                sql_messages.write_messages(conn, message_rows)
                conn.exec_driver_sql(
                    insert_ignore_sql(conn, spans),
                    [span_tuple(s, c) for s, c in zip(stored, costs, strict=True)],
                )
            failed = [
                s.trace_id
                for s in spans_
                if s.kind is SpanKind.TOOL and s.status is SpanStatus.ERROR
            ]
            if runs_ or provisional:
                upsert, merge = _run_sql(conn)
                _forget_provisional_summaries(
                    conn, list(dict.fromkeys(r.trace_id for r in (*runs_, *provisional)))
                )
                if provisional:
                    conn.exec_driver_sql(merge, [run_tuple(r) for r in provisional])
                if runs_:
                    conn.exec_driver_sql(upsert, [run_tuple(r) for r in runs_])
                _fill_who(conn, [*runs_, *provisional])
            touched = [*(r.trace_id for r in runs_), *(r.trace_id for r in provisional), *failed]
            if touched:
                _recount(conn, list(dict.fromkeys(touched)))
            priced = [*touched, *(s.trace_id for s in spans_ if s.usage is not None)]
            if priced:
                sql_cost.recount_cost(conn, list(dict.fromkeys(priced)))
            if spans_ and (runs_ or provisional):  # OTLP: a trace's agent across batches
                settle_agents(
                    conn,
                    list(dict.fromkeys(r.trace_id for r in (*runs_, *provisional))),
                    _IS_PROVISIONAL,
                )
            sql_search.index_batch(conn, [*runs_, *provisional], spans_)
            with_tools = [*_note_tools(conn, spans_), *touched] if spans_ else touched
            if with_tools:
                _sync_tool_starts(conn, list(dict.fromkeys(with_tools)))

    def get_run(self, trace_id: str) -> Run | None:
        with self._read() as conn:
            row = conn.execute(select(runs).where(runs.c.trace_id == trace_id)).first()
        return row_run(row) if row else None

    def get_spans(self, trace_id: str) -> list[Span]:
        with self._read() as conn:
            rows = conn.execute(
                select(spans)
                .where(spans.c.trace_id == trace_id)
                .order_by(spans.c.seq, spans.c.start_ns)
            ).all()
            return sql_messages.join(conn, [row_span(r) for r in rows])

    def get_runs_with_spans(self, trace_ids: Sequence[str]) -> list[tuple[Run, list[Span]]]:
        """Runs and their spans (``seq`` order) for many trace ids in two queries; unknown
        ids are left out."""
        ids = list(dict.fromkeys(trace_ids))
        if not ids:
            return []
        with self._read() as conn:
            run_rows = conn.execute(select(runs).where(runs.c.trace_id.in_(ids))).all()
            span_rows = conn.execute(
                select(spans)
                .where(spans.c.trace_id.in_(ids))
                .order_by(spans.c.trace_id, spans.c.seq, spans.c.start_ns)
            ).all()
            all_spans = sql_messages.join(conn, [row_span(r) for r in span_rows])
        by_trace: dict[str, list[Span]] = {}
        for sp in all_spans:
            by_trace.setdefault(sp.trace_id, []).append(sp)
        found = {r.trace_id: row_run(r) for r in run_rows}
        return [(found[t], by_trace.get(t, [])) for t in ids if t in found]

    def trace_ids_with_prefix(
        self, prefix: str, limit: int = 3, project: str | None = None
    ) -> list[str]:
        """Run ids starting with ``prefix``: a range of the primary key (``trace_id >= low AND
        trace_id < high``), which both backends serve from the index, unlike ``LIKE``;
        ``project``: only that project's runs."""
        low, high = prefix_range(prefix)
        q = select(runs.c.trace_id).where(runs.c.trace_id >= low)
        if high is not None:
            q = q.where(runs.c.trace_id < high)
        if project is not None:
            q = q.where(runs.c.project == project)
        with self._read() as conn:
            rows = conn.execute(q.order_by(runs.c.trace_id).limit(limit)).all()
        return [r[0] for r in rows if r[0].startswith(prefix)]

    def find_runs(self, query: RunQuery) -> list[Run]:
        """Runs matching ``query``, newest first (ties by id, descending), after
        ``query.after`` when given: each filter is one index range read backwards, with no
        sort (``store/tables.py``); the tool filter reads ``run_tools``, never spans."""
        with self._read() as conn:
            dense = sql_search.probe_terms(conn, query.search)
            rows = conn.execute(run_list_sql(query, dense=dense)).all()
        return [row_run(r) for r in rows]

    def count_runs(self, query: RunQuery, cap: int = COUNT_CAP) -> RunCount:
        """How many runs match ``query`` (its limit, offset and cursor aside): counted up to
        ``cap`` (an index range of at most ``cap`` entries), beyond that the PostgreSQL
        planner's estimate (statistics kept by ANALYZE), or on SQLite a lower bound."""
        whole = replace(query, limit=cap + 1, offset=0, after=None)
        with self._read() as conn:
            dense = sql_search.probe_terms(conn, query.search)
            n = int(
                conn.execute(
                    select(func.count()).select_from(
                        run_list_sql(whole, dense=dense)
                        .with_only_columns(runs.c.trace_id)
                        .subquery()
                    )
                ).scalar_one()
            )
            if n <= cap:
                return RunCount(n)
            if is_sqlite(conn):
                return RunCount(cap, "at_least")
            unbounded = run_list_sql(whole, bounded=False)
            sql = str(
                unbounded.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
            )
            plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}").scalar_one()
        plan = orjson.loads(plan) if isinstance(plan, str | bytes) else plan
        return RunCount(max(int(plan[0]["Plan"]["Plan Rows"]), cap + 1), "estimate")
