"""The runs list on SQLite without SQLAlchemy: stdlib ``sqlite3`` on a store opened read-only by
:mod:`.lite`, for the CLI's ``agentdeck runs`` (its start-up, issue 17: SQLAlchemy alone costs
~150 ms).

The SQL is :func:`~.sql_run_list.run_list_sql`'s, written out for ``sqlite3``: the same
filters, the same index ranges (the partial indexes' ``> 0`` as a constant), the same order
``(start_ns, trace_id)`` newest first. tests/cli/test_runs_fast_path.py checks that both give
byte-identical output for generated filter combinations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdeck.core.trace.model import Run
from agentdeck.core.trace.query import RunQuery
from agentdeck.store.lite import LiteError
from agentdeck.store.run_row import row_run

if TYPE_CHECKING:
    import sqlite3

__all__ = ["find_runs_in", "run_list_text"]


def run_list_text(query: RunQuery) -> tuple[str, list[Any]]:
    """The SELECT of :func:`~.sql_run_list.run_list_sql` for ``query``, and its parameters."""
    if query.tool is not None:
        sql = "SELECT runs.* FROM run_tools JOIN runs ON runs.trace_id = run_tools.trace_id"
        where, args = ["run_tools.tool_name = ?"], list[Any]([query.tool])
        start, tid = "run_tools.start_ns", "run_tools.trace_id"
    else:
        sql, where, args = "SELECT runs.* FROM runs", [], list[Any]()
        start, tid = "runs.start_ns", "runs.trace_id"
    equal = (
        ("runs.project", query.project),
        ("runs.agent_name", query.agent_name),
        ("runs.agent_version", query.agent_version),
        ("runs.agent_digest", query.agent_digest),
        ("runs.env", query.env),
        ("runs.status", None if query.status is None else query.status.value),
    )
    for column, value in equal:
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if query.since_ns is not None:
        where.append(f"{start} >= ?")
        args.append(query.since_ns)
    if query.until_ns is not None:
        where.append(f"{start} < ?")
        args.append(query.until_ns)
    if query.has_errors is not None:
        where.append("runs.tool_errors > 0" if query.has_errors else "runs.tool_errors = 0")
    if query.denied is not None:
        where.append("runs.denied_calls > 0" if query.denied else "runs.denied_calls = 0")
    for column, value in (
        ("runs.outcome", None if query.outcome is None else query.outcome.value),
        ("runs.session_id", query.session_id),
        ("runs.user_id", query.user_id),
    ):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if query.after is not None:
        where.append(f"({start}, {tid}) < (?, ?)")
        args += [query.after.start_ns, query.after.trace_id]
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {start} DESC, {tid} DESC LIMIT ?"
    args.append(query.limit)
    if query.offset:
        sql += " OFFSET ?"
        args.append(query.offset)
    return sql, args


def find_runs_in(conn: sqlite3.Connection, query: RunQuery) -> list[Run] | None:
    """Runs matching ``query`` on an open read-only store (None: the SQL failed)."""
    sql, args = run_list_text(query)
    try:
        rows = conn.execute(sql, args).fetchall()
    except LiteError:
        return None
    return [row_run(r) for r in rows]
