"""The one SELECT behind every list of runs (:meth:`SqlTraces.find_runs` and its count).

Each filter is one index range read newest first (``store/tables.py``, migration
``0012_run_indexes``), ending in the list's order ``(start_ns, trace_id)`` so a cursor is exact;
the tool filter reads ``run_tools``, never spans.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnClause, Select, literal_column, select, tuple_

from agentdeck.core.trace.query import RunQuery
from agentdeck.store.sql_search import Probed, search_clause
from agentdeck.store.tables import run_tools, runs

__all__ = ["run_list_sql"]

# The predicates of the partial indexes ``ix_runs_tool_errors_start`` and
# ``ix_runs_denied_start`` (``> 0``), written as a constant in the SQL text: with a bound
# parameter a generic plan (PostgreSQL's plan cache after five executions of a prepared
# statement) cannot prove it implies the index's predicate and walks ``ix_runs_start``
# filtering instead, reading every run down to the 50th match (1 in 97 runs denied: ~4,900).
_ZERO: ColumnClause[int] = literal_column("0")


def run_list_sql(
    query: RunQuery, *, bounded: bool = True, dense: Probed | None = None
) -> Select[Any]:
    """The SELECT behind :meth:`SqlTraces.find_runs` (the EXPLAIN tests read its plan);
    ``bounded=False``: without limit, offset and order (what the count estimates); ``dense``:
    what :func:`~agentdeck.store.sql_search.probe_terms` found of the search terms."""
    c = runs.c
    if query.tool is not None:
        t = run_tools.c
        q = (
            select(runs)
            .select_from(run_tools.join(runs, runs.c.trace_id == t.trace_id))
            .where(t.tool_name == query.tool)
        )
        order: tuple[Any, Any] = (t.start_ns, t.trace_id)
    else:
        q = select(runs)
        order = (c.start_ns, c.trace_id)
    if query.project is not None:
        q = q.where(c.project == query.project)
    if query.agent_name is not None:
        q = q.where(c.agent_name == query.agent_name)
    if query.agent_version is not None:
        q = q.where(c.agent_version == query.agent_version)
    if query.agent_digest is not None:
        q = q.where(c.agent_digest == query.agent_digest)
    if query.env is not None:
        q = q.where(c.env == query.env)
    if query.status is not None:
        q = q.where(c.status == query.status.value)
    if query.since_ns is not None:
        q = q.where(order[0] >= query.since_ns)
    if query.until_ns is not None:
        q = q.where(order[0] < query.until_ns)
    if query.has_errors is not None:
        q = q.where(c.tool_errors > _ZERO if query.has_errors else c.tool_errors == _ZERO)
    if query.denied is not None:
        q = q.where(c.denied_calls > _ZERO if query.denied else c.denied_calls == _ZERO)
    if query.outcome is not None:
        q = q.where(c.outcome == query.outcome.value)
    if query.session_id is not None:
        q = q.where(c.session_id == query.session_id)
    if query.user_id is not None:
        q = q.where(c.user_id == query.user_id)
    if query.search is not None:
        q = q.where(search_clause(query.search, dense))
    if query.after is not None:
        q = q.where(tuple_(*order) < tuple_(query.after.start_ns, query.after.trace_id))
    if not bounded:
        return q
    q = q.order_by(order[0].desc(), order[1].desc()).limit(query.limit)
    return q.offset(query.offset) if query.offset else q
