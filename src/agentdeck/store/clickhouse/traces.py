"""Runs and spans in ClickHouse: the :class:`~agentdeck.store.protocol.TraceStore` semantics of
:mod:`agentdeck.store.sql_traces`, on ``ReplacingMergeTree`` tables (:mod:`.schema`).

ClickHouse has no ``INSERT ... ON CONFLICT``: the run rules are applied here instead, under
one lock per store: read the stored versions of the batch's runs (``FINAL``), apply the rules
(:func:`merge_provisional`, :func:`replace_provisional`; the same as the SQL upserts), recount
the failed and denied tool spans of every touched run, and insert a new version of each run
that changed. Re-sending a batch changes nothing (no new version is written; a re-sent span
is merged with its first copy by the ``ReplacingMergeTree`` and never read twice, ``FINAL``). Several server
processes writing the same trace concurrently may each write a version; the newest wins
(the SQL store's compare-in-SQL does better there): run one ingesting writer per trace store,
or accept that a provisional run's widening may lose a race until the real run arrives.

Each run written is written to the runs list's index too (``runs_by_time``: where the run is
now in the list's order, with the tool names of its spans; ``run_versions``: where that is,
by id), and a run whose spans bring a tool name new to it is written there again (its
``runs`` row unchanged): :mod:`.run_list` reads the list from it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

from agentdeck.core.cost import CostTotal, PriceSource
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunCount, RunQuery
from agentdeck.prices import default_prices
from agentdeck.store.clickhouse import run_list
from agentdeck.store.clickhouse.cost import NO_USAGE, cost_sums, cost_totals
from agentdeck.store.clickhouse.schema import RUN_COLUMNS, SPAN_COLUMNS, create_schema
from agentdeck.store.clickhouse.seam import ChConnection, TracesUrl
from agentdeck.store.sql_cost import span_costs
from agentdeck.store.sql_traces import row_run, row_span, run_tuple, span_tuple

__all__ = ["ClickHouseTraces", "merge_provisional", "replace_provisional"]

_RUN_NAMES = [n for n, _ in RUN_COLUMNS]
_SPAN_NAMES = [n for n, _ in SPAN_COLUMNS]
_CHUNK = 1000
_DENIED = '"tool.denied":true'


def _fill_who(stored: Run, new: Run) -> Run | None:
    """``stored`` with the session and user it lacks taken from ``new`` (the first known value
    stays); None when that changes nothing."""
    session = stored.session_id or new.session_id
    user = stored.user_id or new.user_id
    if (session, user) == (stored.session_id, stored.user_id):
        return None
    return replace(stored, session_id=session, user_id=user)


def merge_provisional(stored: Run | None, new: Run) -> Run | None:
    """The run to store when provisional ``new`` arrives (``None``: keep ``stored``)."""
    if stored is None:
        return new
    if not stored.provisional:
        return _fill_who(stored, new)
    escalates = new.status is SpanStatus.ERROR and stored.status is not SpanStatus.ERROR
    end = stored.end_ns
    if end is None or (new.end_ns is not None and new.end_ns > end):
        end = new.end_ns
    agent_unset = stored.agent_name is None
    return replace(
        stored,
        start_ns=min(stored.start_ns, new.start_ns),
        end_ns=end,
        status=new.status if escalates else stored.status,
        error=new.error if escalates else stored.error,
        agent_name=new.agent_name if agent_unset else stored.agent_name,
        agent_version=new.agent_version if agent_unset else stored.agent_version,
        agent_digest=new.agent_digest if agent_unset else stored.agent_digest,
        env=stored.env if stored.env is not None else new.env,
        deployment_id=stored.deployment_id
        if stored.deployment_id is not None
        else new.deployment_id,
        session_id=stored.session_id or new.session_id,
        user_id=stored.user_id or new.user_id,
    )


def replace_provisional(stored: Run | None, new: Run) -> Run | None:
    """The run to store when real run ``new`` arrives: it replaces a provisional run whole;
    a real run stored first wins (``None``, or only the session and user it lacked)."""
    if stored is None:
        return new
    if stored.provisional:
        return _fill_who(new, stored) or new
    return _fill_who(stored, new)


def _run_row(run: Run, ver: int) -> dict[str, Any]:
    row = dict(zip(_RUN_NAMES, run_tuple(run)[: len(_RUN_NAMES)], strict=True))
    row["tool_errors"], row["denied_calls"] = run.tool_errors, run.denied_calls
    row["ver"] = ver
    return row


def _to_run(row: Mapping[str, Any]) -> Run:
    return row_run(SimpleNamespace(**row))


def _to_span(row: Mapping[str, Any]) -> Span:
    return row_span(SimpleNamespace(**row))


def _check_search(query: RunQuery) -> None:
    if query.search is not None:  # (search indexes: migration 0017_search, SQL stores)
        raise InputError("search: needs the SQL trace store (SQLite or PostgreSQL), not ClickHouse")


def _chunks(ids: Sequence[str]) -> list[list[str]]:
    return [list(ids[i : i + _CHUNK]) for i in range(0, len(ids), _CHUNK)]


class ClickHouseTraces:
    """Implements :class:`~agentdeck.store.protocol.TraceStore` on one :class:`ChConnection`."""

    prices: PriceSource | None = None  # as SqlTraces.prices

    def __init__(self, conn: ChConnection, url: TracesUrl) -> None:
        self.conn = conn
        self.database = url.database
        self._runs = f"{url.database}.runs"
        self._spans = f"{url.database}.spans"
        self._by_time = f"{url.database}.runs_by_time"
        self._versions = f"{url.database}.run_versions"
        self._lock = threading.Lock()
        self._last_ver = 0
        create_schema(conn, url)

    def _next_ver(self) -> int:
        self._last_ver = max(self._last_ver + 1, time.time_ns())
        return self._last_ver

    def _stored_runs(self, trace_ids: Sequence[str]) -> dict[str, Run]:
        found: dict[str, Run] = {}
        for part in _chunks(trace_ids):
            rows = self.conn.rows(
                f"SELECT * EXCEPT ver FROM {self._runs} FINAL WHERE trace_id IN {{ids:Array(String)}}",
                {"ids": part},
            )
            found.update((r["trace_id"], _to_run(r)) for r in rows)
        return found

    def _counts(self, trace_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for part in _chunks(trace_ids):
            rows = self.conn.rows(
                f"SELECT trace_id, count() AS n, countIf(position(attributes, {{d:String}}) > 0)"
                f" AS d FROM {self._spans} FINAL WHERE kind = 'tool' AND status = 'error'"
                " AND trace_id IN {ids:Array(String)} GROUP BY trace_id",
                {"ids": part, "d": _DENIED},
            )
            found.update((r["trace_id"], (int(r["n"]), int(r["d"]))) for r in rows)
        return found

    # -- TraceStore ---------------------------------------------------------------------------

    def write_batch(
        self, runs_: Sequence[Run], spans_: Sequence[Span], *, provisional: Sequence[Run] = ()
    ) -> None:
        """Spans first, then the runs by the SQL store's rules (module docstring)."""
        if not runs_ and not spans_ and not provisional:
            return
        costs = span_costs(spans_, self.prices or default_prices()) if spans_ else []
        with self._lock:
            if spans_:
                self.conn.insert(
                    self._spans,
                    [
                        dict(zip(_SPAN_NAMES, span_tuple(s, c), strict=True))
                        for s, c in zip(spans_, costs, strict=True)
                    ],
                )
            failed = [
                s.trace_id
                for s in spans_
                if s.kind is SpanKind.TOOL and s.status is SpanStatus.ERROR
            ]
            with_usage = [s.trace_id for s in spans_ if s.usage is not None]
            tooled: dict[str, set[str]] = {}
            for s in spans_:
                if s.tool_name is not None:
                    tooled.setdefault(s.trace_id, set()).add(s.tool_name)
            touched = list(
                dict.fromkeys(
                    [
                        *(r.trace_id for r in (*provisional, *runs_)),
                        *failed,
                        *with_usage,
                        *tooled,
                    ]
                )
            )
            if not touched:
                return
            stored = self._stored_runs(touched)
            current = dict(stored)
            for run in provisional:
                merged = merge_provisional(current.get(run.trace_id), run)
                if merged is not None:
                    current[run.trace_id] = merged
            for run in runs_:
                real = replace_provisional(current.get(run.trace_id), run)
                if real is not None:
                    current[run.trace_id] = replace(real, tool_errors=0, denied_calls=0)
            counts = self._counts(touched)
            sums = cost_sums(self.conn, self._spans, touched)
            indexed = self._indexed([t for t in touched if t in current])
            from_spans = self._span_tools([t for t in touched if t in current and t not in indexed])
            out: list[dict[str, Any]] = []
            index: list[dict[str, Any]] = []
            versions: list[dict[str, Any]] = []
            for tid in touched:
                run_or_none = current.get(tid)
                if run_or_none is None:
                    continue
                n, d = counts.get(tid, (0, 0))
                i, o, usd, unpriced = sums.get(tid, NO_USAGE)
                run = replace(
                    run_or_none,
                    tool_errors=n,
                    denied_calls=d,
                    input_tokens=i,
                    output_tokens=o,
                    cost_usd=usd,
                    unpriced_calls=unpriced,
                )
                known = indexed.get(tid)  # (start_ns, tools) in runs_by_time
                tools = sorted(
                    {
                        *(from_spans.get(tid, []) if known is None else known[1]),
                        *tooled.get(tid, ()),
                    }
                )
                changed = stored.get(tid) != run
                if changed or known is None or tools != known[1]:
                    ver = self._next_ver()
                    row = _run_row(run, ver)
                    index.append({**row, "tools": tools})
                    was = {known[0] if known else None, getattr(stored.get(tid), "start_ns", None)}
                    for start in was - {None, run.start_ns}:  # moved: its old row deleted
                        index.append({"trace_id": tid, "start_ns": start, "ver": ver, "deleted": 1})
                    versions.append(
                        {"trace_id": tid, "ver": ver, "start_ns": run.start_ns, "tools": tools}
                    )
                    if changed:
                        out.append(row)
            # where the runs go first: a write cut short after it still has the next write
            # of the run delete both its old places (the one runs_by_time may still list)
            self.conn.insert(self._versions, versions)
            self.conn.insert(self._by_time, index)
            self.conn.insert(self._runs, out)

    def _indexed(self, trace_ids: Sequence[str]) -> dict[str, tuple[int, list[str]]]:
        """Where each of ``trace_ids`` is in ``runs_by_time`` (start, tool names), if it is."""
        found: dict[str, tuple[int, list[str]]] = {}
        for part in _chunks(trace_ids):
            rows = self.conn.rows(
                f"SELECT trace_id, argMax(start_ns, ver) AS s, argMax(tools, ver) AS tools"
                f" FROM {self._versions} WHERE trace_id IN {{ids:Array(String)}} GROUP BY trace_id",
                {"ids": part},
            )
            found.update((r["trace_id"], (int(r["s"]), list(r["tools"]))) for r in rows)
        return found

    def _span_tools(self, trace_ids: Sequence[str]) -> dict[str, list[str]]:
        """The tool names of the stored spans of each of ``trace_ids``."""
        found: dict[str, list[str]] = {}
        for part in _chunks(trace_ids):
            rows = self.conn.rows(
                f"SELECT trace_id, groupUniqArray(tool_name) AS tools FROM {self._spans}"
                " WHERE trace_id IN {ids:Array(String)} AND tool_name IS NOT NULL"
                " GROUP BY trace_id",
                {"ids": part},
            )
            found.update((r["trace_id"], list(r["tools"])) for r in rows)
        return found

    def provisional_among(self, trace_ids: Sequence[str]) -> list[str]:
        """Those of ``trace_ids`` whose stored run is provisional."""
        return [
            t for t, r in self._stored_runs(list(dict.fromkeys(trace_ids))).items() if r.provisional
        ]

    def get_run(self, trace_id: str) -> Run | None:
        return self._stored_runs([trace_id]).get(trace_id)

    def get_spans(self, trace_id: str) -> list[Span]:
        rows = self.conn.rows(
            f"SELECT * FROM {self._spans} FINAL WHERE trace_id = {{t:String}}"
            " ORDER BY seq, start_ns",
            {"t": trace_id},
        )
        return [_to_span(r) for r in rows]

    def get_runs_with_spans(self, trace_ids: Sequence[str]) -> list[tuple[Run, list[Span]]]:
        ids = list(dict.fromkeys(trace_ids))
        if not ids:
            return []
        found = self._stored_runs(ids)
        by_trace: dict[str, list[Span]] = {}
        for part in _chunks(ids):
            rows = self.conn.rows(
                f"SELECT * FROM {self._spans} FINAL WHERE trace_id IN {{ids:Array(String)}}"
                " ORDER BY trace_id, seq, start_ns",
                {"ids": part},
            )
            for r in rows:
                by_trace.setdefault(r["trace_id"], []).append(_to_span(r))
        return [(found[t], by_trace.get(t, [])) for t in ids if t in found]

    def trace_ids_with_prefix(self, prefix: str, limit: int = 3) -> list[str]:
        rows = self.conn.rows(
            f"SELECT DISTINCT trace_id FROM {self._runs} WHERE startsWith(trace_id, {{p:String}})"
            " ORDER BY trace_id LIMIT {n:UInt32}",
            {"p": prefix, "n": limit},
        )
        return [r["trace_id"] for r in rows]

    def count_runs(self, query: RunQuery, cap: int = 1000) -> RunCount:
        """How many runs match ``query`` (limit, offset and cursor aside): exact up to
        ``cap``, beyond an estimate or a lower bound (:func:`.run_list.count_runs`)."""
        _check_search(query)
        return run_list.count_runs(self.conn, self.database, query, cap)

    def find_runs(self, query: RunQuery) -> list[Run]:
        """The runs of ``query``, newest first, read in order from ``runs_by_time``
        (:mod:`.run_list`): the newest granules, whatever the store's size."""
        _check_search(query)
        return [_to_run(r) for r in run_list.list_rows(self.conn, self.database, query)]

    # -- what the monitors read of runs -------------------------------------------------------

    def window_trace_ids(
        self,
        agent_name: str,
        env: str | None,
        since_ns: int | None,
        until_ns: int | None,
        agent_digest: str | None,
        trace_ids: Sequence[str] | None,
    ) -> list[str]:
        """Trace ids of the finished runs of the agent in the window, oldest first: read from
        ``runs_by_time`` (the rows of ``runs FINAL``, ordered by start time), so a window
        reads its time range, not every run."""
        where = ["agent_name = {agent:String}", "end_ns IS NOT NULL"]
        params: dict[str, Any] = {"agent": agent_name}
        for cond, key, value in (
            ("env = {env:String}", "env", env),
            ("start_ns >= {since:Int64}", "since", since_ns),
            ("start_ns < {until:Int64}", "until", until_ns),
            ("agent_digest = {digest:String}", "digest", agent_digest),
            (
                "trace_id IN {ids:Array(String)}",
                "ids",
                None if trace_ids is None else list(trace_ids),
            ),
        ):
            if value is not None:
                where.append(cond)
                params[key] = value
        rows = self.conn.rows(
            f"SELECT trace_id FROM {self._by_time} FINAL WHERE {' AND '.join(where)}"
            " ORDER BY start_ns, trace_id SETTINGS optimize_move_to_prewhere_if_final = 0",
            params,
        )
        return [r["trace_id"] for r in rows]

    def runs_with_attribute_text(self, key: str, agent_name: str | None) -> list[tuple[str, str]]:
        """(trace id, attributes JSON) of the runs whose attributes mention ``key``."""
        where = "position(attributes, {k:String}) > 0"
        params: dict[str, Any] = {"k": key}
        if agent_name is not None:
            where += " AND agent_name = {agent:String}"
            params["agent"] = agent_name
        rows = self.conn.rows(
            f"SELECT trace_id, attributes FROM {self._runs} FINAL WHERE {where}", params
        )
        return [(r["trace_id"], r["attributes"]) for r in rows]

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
    ) -> list[CostTotal]:
        return cost_totals(
            self.conn,
            self._runs,
            group_by,
            agent_name=agent_name,
            agent_digest=agent_digest,
            env=env,
            since_ns=since_ns,
            until_ns=until_ns,
            limit=limit,
        )

    def drop(self) -> None:
        """Drop this store's database (tests)."""
        self.conn.command(f"DROP DATABASE IF EXISTS {self.database}")

    def close(self) -> None:
        self.conn.close()
