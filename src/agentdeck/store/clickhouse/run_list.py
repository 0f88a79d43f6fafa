"""The runs list on ClickHouse, flat in the store's size: read in the list's order from
``runs_by_time`` (:mod:`.schema`), keep the current rows.

``runs`` is ordered by ``trace_id``: a list ordered by start time read from it merges and
sorts the whole table. ``runs_by_time`` holds every version of every run ordered by
``(start_ns, trace_id)``, with the list's filter columns and ``tools`` (the tool names of the
run's spans): the list reads it newest first with the filters and the cursor and stops after a
batch (``optimize_read_in_order``: the newest granules of each part). A row is current when its
``ver`` is the newest of its run (``run_versions``, a primary-key lookup of the batch's ids in
small granules); the rows of older versions are dropped, so a run rewritten with another start
time is listed once, where it is now. The next batch (twice as large) starts where the last
ended, until the page is full or the index ends: the runs are those, in the order, of the
query on ``runs FINAL`` with the same filters.

A batch that fills its limit may end inside the rows of one run at one start time (versions
not yet folded by a merge): those rows are read again with the next batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from agentdeck.core.trace.query import RunCount, RunQuery
from agentdeck.store.clickhouse.seam import ChConnection

__all__ = ["count_runs", "current_versions", "list_rows", "run_filters"]

FIRST_BATCH = 32
"""Index rows read by the first batch beyond the rows the page needs (stale rows are few)."""
MAX_BATCH = 65_536
_CHUNK = 1000


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
    """The WHERE conditions of ``query`` on ``runs_by_time`` (the cursor aside: the walk's)."""
    where, params = run_filters(query)
    if query.tool is not None:
        where.append("has(tools, {tool:String})")
        params["tool"] = query.tool
    return where, params


def current_versions(conn: ChConnection, table: str, trace_ids: Sequence[str]) -> dict[str, int]:
    """The newest ``ver`` of each of ``trace_ids`` in ``run_versions`` (``table``)."""
    ids = list(dict.fromkeys(trace_ids))
    found: dict[str, int] = {}
    for i in range(0, len(ids), _CHUNK):
        rows = conn.rows(
            f"SELECT trace_id, max(ver) AS v FROM {table}"
            " WHERE trace_id IN {ids:Array(String)} GROUP BY trace_id",
            {"ids": ids[i : i + _CHUNK]},
        )
        found.update((r["trace_id"], int(r["v"])) for r in rows)
    return found


def list_rows(
    conn: ChConnection,
    database: str,
    query: RunQuery,
    want: int,
    columns: str = "*",
) -> list[dict[str, Any]]:
    """The first ``want`` current rows of ``runs_by_time`` matching ``query`` (and after its
    cursor), newest first; ``columns`` as in a SELECT (with ``trace_id``, ``start_ns`` and
    ``ver``)."""
    if want <= 0:
        return []
    where, params = index_filters(query)
    pos: tuple[int, str, bool] | None = None  # (start_ns, trace_id, inclusive)
    if query.after is not None:
        pos = (query.after.start_ns, query.after.trace_id, False)
    batch = min(want + FIRST_BATCH, MAX_BATCH)
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    while True:
        conds = list(where)
        if pos is not None:
            conds.append("start_ns <= {p_start:Int64}")
            conds.append(
                "(start_ns, trace_id) " + ("<=" if pos[2] else "<") + " ({p_start:Int64}, {p_tid:String})"
            )
            params.update(p_start=pos[0], p_tid=pos[1])
        params["lim"] = batch
        rows = conn.rows(
            f"SELECT {columns} FROM {database}.runs_by_time"
            f"{' WHERE ' + ' AND '.join(conds) if conds else ''}"
            " ORDER BY start_ns DESC, trace_id DESC LIMIT {lim:UInt64}"
            " SETTINGS optimize_read_in_order = 1",
            params,
        )
        full = len(rows) == batch
        if full:  # the rows of the last (start, trace) may go on: read them with the next batch
            last = (int(rows[-1]["start_ns"]), rows[-1]["trace_id"])
            rows = [r for r in rows if (int(r["start_ns"]), r["trace_id"]) != last]
        if rows:
            newest = current_versions(conn, f"{database}.run_versions", [r["trace_id"] for r in rows])
            for r in rows:
                tid = r["trace_id"]
                if tid not in seen and newest.get(tid) == int(r["ver"]):
                    seen.add(tid)
                    out.append(r)
        if len(out) >= want or not full:
            return out[:want]
        pos = (*last, True)
        batch = min(batch * 2, MAX_BATCH)


def count_runs(conn: ChConnection, database: str, query: RunQuery, cap: int) -> RunCount:
    """How many runs match ``query`` (limit, offset and cursor aside): counted up to ``cap``
    by the list's walk; beyond, without filters an estimate (the rows of ``runs``, from the
    parts' metadata: versions not yet merged count), with filters a lower bound."""
    whole = replace(query, after=None, offset=0)
    n = len(list_rows(conn, database, whole, cap + 1, "trace_id, start_ns, ver"))
    if n <= cap:
        return RunCount(n)
    where, _ = index_filters(whole)
    if where:
        return RunCount(cap, "at_least")
    rows = conn.rows(f"SELECT count() AS n FROM {database}.runs")
    return RunCount(max(int(rows[0]["n"]) if rows else 0, cap + 1), "estimate")
