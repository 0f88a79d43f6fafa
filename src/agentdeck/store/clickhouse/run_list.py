"""The runs list on ClickHouse, flat in the store's size: read in the list's order from
``runs_by_time`` (:mod:`.schema`).

``runs`` is ordered by ``trace_id``: a list ordered by start time read from it merges and
sorts the whole table. ``runs_by_time`` holds each run where it is now, ordered by
``(start_ns, trace_id)``, with the list's filter columns and ``tools`` (the tool names of the
run's spans): ``ReplacingMergeTree(ver, deleted)``, so a run rewritten at the same start time
replaces its row, and a run that moved (a provisional run widened, replaced by the real run)
leaves a ``deleted`` row of the newer version where it was. Read with ``FINAL`` (the newest row
of each key, deleted rows dropped, then the filters: ``optimize_move_to_prewhere_if_final=0``)
in order (``optimize_read_in_order``), a list stops after the rows it needs: the newest blocks
of each part (``max_block_size`` small), and only of the parts in a time window back from the
newest run (the primary key leaves the older parts out; the window widens until it holds the
page), whatever the store's size and its number of parts. The runs, in the order, are those of
the same query on ``runs FINAL``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from agentdeck.core.trace.query import RunCount, RunQuery
from agentdeck.store.clickhouse.seam import ChConnection

__all__ = ["count_runs", "index_filters", "list_rows", "run_filters"]


def run_filters(query: RunQuery) -> tuple[list[str], dict[str, Any]]:
    """The WHERE conditions (with their parameters) of a run query, except the tool and the
    cursor."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for cond, key, value in (
        ("agent_name = {agent:String}", "agent", query.agent_name),
        ("agent_version = {ver:Int64}", "ver", query.agent_version),
        ("agent_digest = {digest:String}", "digest", query.agent_digest),
        ("env = {env:String}", "env", query.env),
        ("status = {status:String}", "status", query.status.value if query.status else None),
        ("start_ns >= {since:Int64}", "since", query.since_ns),
        ("start_ns < {until:Int64}", "until", query.until_ns),
        ("outcome = {outcome:String}", "outcome", query.outcome.value if query.outcome else None),
        ("session_id = {session:String}", "session", query.session_id),
        ("user_id = {user:String}", "user", query.user_id),
    ):
        if value is not None:
            where.append(cond)
            params[key] = value
    if query.has_errors is not None:
        where.append("tool_errors > 0" if query.has_errors else "tool_errors = 0")
    if query.denied is not None:
        where.append("denied_calls > 0" if query.denied else "denied_calls = 0")
    return where, params


def index_filters(query: RunQuery) -> tuple[list[str], dict[str, Any]]:
    """The WHERE conditions of ``query`` on ``runs_by_time``, the cursor aside."""
    where, params = run_filters(query)
    if query.tool is not None:
        where.append("has(tools, {tool:String})")
        params["tool"] = query.tool
    return where, params


_SETTINGS = (
    " SETTINGS optimize_read_in_order = 1, optimize_move_to_prewhere_if_final = 0,"
    " max_block_size = 1024"
)


WINDOW_SLACK = 4
"""The first time window holds this many times the rows a page needs, at the store's mean
density (filters, older versions and deleted rows take their share)."""


def _select(
    database: str, query: RunQuery, columns: str, low: int | None
) -> tuple[str, dict[str, Any]]:
    """The list's SELECT on ``runs_by_time FINAL`` (no LIMIT) with the filters, the cursor and
    the window's lower bound ``low`` (None: none)."""
    where, params = index_filters(query)
    where.append("NOT deleted")
    if query.after is not None:  # the cursor: runs after it in the list's order
        where.append("start_ns <= {a_start:Int64}")
        where.append("(start_ns, trace_id) < ({a_start:Int64}, {a_tid:String})")
        params.update(a_start=query.after.start_ns, a_tid=query.after.trace_id)
    if low is not None:
        where.append("start_ns >= {w_low:Int64}")
        params["w_low"] = low
    return (
        f"SELECT {columns} FROM {database}.runs_by_time FINAL WHERE {' AND '.join(where)}"
        " ORDER BY start_ns DESC, trace_id DESC",
        params,
    )


def _windowed(
    conn: ChConnection,
    database: str,
    query: RunQuery,
    need: int,
    read: Callable[[int | None], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """``read(low)``, the list's read with ``start_ns >= low``, in windows back from the
    newest run the query can list, wider each time, until one holds ``need`` rows
    (``len``) or reaches the oldest run (``read(None)``). The rows of a window are the list's
    first rows: every row before ``low`` comes after them. The window keeps the parts wholly
    older out of the read (the primary key), however many parts there are."""
    stats = conn.rows(
        f"SELECT min(start_ns) AS lo, max(start_ns) AS hi, count() AS n FROM {database}.runs_by_time"
    )  # from the parts' metadata
    n = int(stats[0]["n"]) if stats else 0
    if n == 0 or need <= 0:
        return read(None)
    lo, hi = int(stats[0]["lo"]), int(stats[0]["hi"])
    top = hi
    if query.after is not None:
        top = min(top, query.after.start_ns)
    if query.until_ns is not None:
        top = min(top, query.until_ns - 1)
    floor = lo if query.since_ns is None else max(lo, query.since_ns)
    window = max(1, -(-need * WINDOW_SLACK * (hi - lo + 1) // n))
    while True:
        low = top - window
        if low <= floor:
            return read(None)
        got = read(low)
        if len(got) >= need:
            return got
        # wide enough at the rate this window held (half again more), or eight times wider
        found = len(got)
        window = max(window * 2, -(-window * need * 3 // (2 * found))) if found else window * 8


def list_rows(conn: ChConnection, database: str, query: RunQuery) -> list[dict[str, Any]]:
    """The rows of ``runs_by_time`` of the page ``query`` asks for, newest first."""

    def read(low: int | None) -> list[dict[str, Any]]:
        sql, params = _select(database, query, "* EXCEPT (ver, deleted, tools)", low)
        params.update(lim=query.limit, off=query.offset)
        return conn.rows(sql + " LIMIT {lim:UInt64} OFFSET {off:UInt64}" + _SETTINGS, params)

    return _windowed(conn, database, query, query.limit, read)


def count_runs(conn: ChConnection, database: str, query: RunQuery, cap: int) -> RunCount:
    """How many runs match ``query`` (limit, offset and cursor aside): counted up to ``cap``
    (the list's read of ``cap + 1`` rows); beyond, without filters an estimate (the rows of
    ``runs`` from the parts' metadata: versions not yet merged count), with filters a lower
    bound."""
    whole = replace(query, after=None, offset=0)

    def read(low: int | None) -> list[dict[str, Any]]:
        sql, params = _select(database, whole, "1 AS x", low)
        params["lim"] = cap + 1
        return conn.rows(sql + " LIMIT {lim:UInt64}" + _SETTINGS, params)

    n = len(_windowed(conn, database, whole, cap + 1, read))
    if n <= cap:
        return RunCount(n)
    where, _ = index_filters(whole)
    if where:
        return RunCount(cap, "at_least")
    rows = conn.rows(f"SELECT count() AS n FROM {database}.runs")
    return RunCount(max(int(rows[0]["n"]) if rows else 0, cap + 1), "estimate")
