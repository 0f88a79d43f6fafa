"""Runs and traces: list with filters, one run with its spans and execution graph, rca."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Response

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.trace.query import MAX_OFFSET, RunCursor, RunQuery, next_cursor
from agentdeck.core.trace.search_plan import search_query
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_run
from agentdeck.server.serialize import run_json, time_ns
from agentdeck.server.validation import INT64_MAX, MAX_VERSION
from agentdeck.tracing.analysis.queries import execution_graph, load_trace
from agentdeck.tracing.analysis.rca import rca_to_dict, root_cause
from agentdeck.tracing.sdk.wire import span_to_dict

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])
_MAX_ID = 200  # the width of runs.session_id / runs.user_id


def run_query(
    agent: str | None = None,
    version: int | None = None,
    digest: str | None = None,
    env: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    tool: str | None = None,
    limit: int = 50,
    offset: int = 0,
    has_errors: str | None = None,
    denied: str | None = None,
    outcome: str | None = None,
    session_id: str | None = None,
    user_id: str | None = None,
    cursor: str | None = None,
    q: str | None = None,
) -> RunQuery:
    """A :class:`RunQuery` from request parameters; errors name the query parameter. An empty
    parameter is no filter (what an HTML form sends for "any")."""
    try:
        st = SpanStatus(status) if status else None
    except ValueError:
        raise InputError(f"query.status: expected ok, error or unset, got {status!r}") from None
    try:
        oc = Outcome(outcome) if outcome else None
    except ValueError:
        raise InputError(f"query.outcome: expected success or failure, got {outcome!r}") from None
    if not 1 <= limit <= 1000:
        raise InputError(f"query.limit: expected 1..1000, got {limit}")
    if not 0 <= offset <= INT64_MAX:
        raise InputError(f"query.offset: expected 0..{INT64_MAX}, got {offset}")
    for part, value in (("session_id", session_id), ("user_id", user_id)):
        if value is not None and len(value) > _MAX_ID:
            raise InputError(f"query.{part}: at most {_MAX_ID} characters, got {len(value)}")
    if offset > MAX_OFFSET:
        raise InputError(
            f"query.offset: expected 0..{MAX_OFFSET}, got {offset} (page further with cursor=)"
        )
    after = RunCursor.decode(cursor, "query.cursor") if cursor else None
    if after is not None and offset:
        raise InputError("query.offset: not with query.cursor (the cursor says where to go on)")
    if version is not None and not 1 <= version <= MAX_VERSION:
        raise InputError(f"query.version: expected 1..{MAX_VERSION}, got {version}")
    return search_query(RunQuery(
        agent_name=agent or None,
        agent_version=version,
        agent_digest=digest or None,
        env=env or None,
        status=st,
        since_ns=time_ns(since or None, "query.since"),
        until_ns=time_ns(until or None, "query.until"),
        tool=tool or None,
        has_errors=_flag(has_errors, "query.has_errors"),
        denied=_flag(denied, "query.denied"),
        outcome=oc,
        session_id=session_id or None,
        user_id=user_id or None,
        limit=limit,
        offset=offset,
        after=after,
    ), q, "query.q")  # fmt: skip


_COUNT_HEADER = {
    "exact": "X-Total-Count",
    "estimate": "X-Total-Estimate",
    "at_least": "X-Total-At-Least",
}
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


def _flag(value: str | None, part: str) -> bool | None:
    """``true``/``false`` (or 1/0, yes/no, on/off) as a filter; empty or absent: no filter."""
    if not value:
        return None
    v = value.strip().lower()
    if v in _TRUE or v in _FALSE:
        return v in _TRUE
    raise InputError(f"{part}: expected true or false, got {value!r}")


@router.get(
    "",
    summary="Runs, newest first, filtered by agent, version, env, status, tool errors, "
    "denials, outcome, time, tool, session, user",
)
def list_runs(
    state: State,
    principal: ReadKey,
    agent: str | None = None,
    version: int | None = None,
    digest: str | None = None,
    env: str | None = None,
    status: str | None = Query(None, description="ok, error or unset."),
    since: str | None = Query(None, description="Start time lower bound (ISO 8601 or ns)."),
    until: str | None = Query(None, description="Start time upper bound (ISO 8601 or ns)."),
    tool: str | None = Query(None, description="Only runs that called this tool."),
    has_errors: str | None = Query(
        None, description="true: runs with a failed tool call; false: runs without."
    ),
    denied: str | None = Query(
        None, description="true: runs with a tool call denied by policy; false: without."
    ),
    outcome: str | None = Query(None, description="success or failure (when recorded)."),
    session_id: str | None = Query(None, description="Only runs of this session/conversation."),
    user_id: str | None = Query(None, description="Only runs of this end user."),
    limit: int = 50,
    offset: int = Query(0, description=f"Runs to skip, at most {MAX_OFFSET}: page with cursor."),
    cursor: str | None = Query(
        None, description="The X-Next-Cursor of the previous page: the runs after it."
    ),
    count: str | None = Query(
        None,
        description="true: a header X-Total-Count (exact), X-Total-Estimate or X-Total-At-Least.",
    ),
    search: str | None = Query(
        None,
        alias="q",
        max_length=2000,
        description="A search query (docs/search.md): fields such as agent:, tag:, attr.KEY:, "
        "cost>, latency<, time>=, and free text over inputs, outputs and tool calls.",
    ),
    *,
    response: Response,
) -> list[dict[str, Any]]:
    q = run_query(
        agent, version, digest, env, status, since, until, tool, limit, offset,
        has_errors, denied, outcome, session_id, user_id, cursor, search,
    )  # fmt: skip
    q = replace(q, project=principal.project)
    with_count = _flag(count, "query.count")
    found = state.store.find_runs(q)
    after = next_cursor(found, q.limit)
    if after is not None:
        response.headers["X-Next-Cursor"] = after.encode()
    if with_count:
        total = state.store.count_runs(q)
        response.headers[_COUNT_HEADER[total.kind]] = str(total.n)
    return [run_json(r) for r in found]


@router.get("/{run_id}", summary="A run with its spans and execution graph (id or unique prefix)")
def get_run(run_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    trace = load_trace(state.store, run_id, principal.project)
    return {
        "run": run_json(trace.run) if trace.run else None,
        "spans": [span_to_dict(s) for s in trace.spans],
        "graph": execution_graph(trace),
    }


@router.get("/{run_id}/graph", summary="A run's execution graph: spans and parent/data-flow edges")
def get_graph(run_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    return execution_graph(load_trace(state.store, run_id, principal.project))


@router.get("/{run_id}/rca", summary="Root cause of a failed run")
def rca(run_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    rc = root_cause(state.store, own_run(state.store, principal, run_id))
    if rc is None:
        raise InputError(f"{run_id}: the run has no spans to analyse")
    return rca_to_dict(rc)
