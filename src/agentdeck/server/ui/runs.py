"""Runs: the list with filters, and one run's graph, waterfall and step details."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, SpanKind
from agentdeck.core.trace.query import next_cursor
from agentdeck.evals.online import scores_of
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.routers.runs import run_query
from agentdeck.server.ui.common import render
from agentdeck.server.ui.view import step_detail, waterfall
from agentdeck.tracing.analysis.queries import execution_graph, load_trace

router = APIRouter(include_in_schema=False)
NAV = ("Runs", "/ui/runs", 10)


@router.get("/ui/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    state: State,
    principal: ReadKey,
    agent: str = "",
    env: str = "",
    status: str = "",
    tool: str = "",
    has_errors: str = "",
    denied: str = "",
    outcome: str = "",
    session_id: str = "",
    user_id: str = "",
    limit: int = 50,
    cursor: str = "",
    search: str = Query("", alias="q"),
) -> HTMLResponse:
    filters = {"q": search, "agent": agent, "env": env, "status": status, "tool": tool,
               "has_errors": has_errors, "denied": denied, "outcome": outcome,
               "session_id": session_id, "user_id": user_id}  # fmt: skip
    error, total, next_href = None, None, None
    runs: list[Run] = []
    keep = {k: v for k, v in filters.items() if v}
    if limit != 50:
        keep["limit"] = str(limit)
    try:
        q = run_query(
            agent=agent,
            env=env,
            status=status,
            tool=tool,
            limit=limit,
            has_errors=has_errors,
            denied=denied,
            outcome=outcome,
            session_id=session_id,
            user_id=user_id,
            cursor=cursor,
            q=search,
        )
        runs = state.store.find_runs(q)
        total = state.store.count_runs(q)
        after = next_cursor(runs, q.limit)
        if after is not None:
            next_href = "/ui/runs?" + urlencode({**keep, "cursor": after.encode()})
    except InputError as exc:
        error = str(exc)
    return render(
        request,
        "runs.html",
        principal,
        runs=runs,
        total=total,
        next_href=next_href,
        first_href=("/ui/runs?" + urlencode(keep)) if cursor else None,
        filters=filters,
        error=error,
        agents=state.store.list_agent_names(),
        envs=state.deployments.path().envs,
    )


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    trace = load_trace(state.store, run_id)
    counts: dict[str, int] = {}
    for s in trace.spans:
        counts[s.kind.value] = counts.get(s.kind.value, 0) + 1
    return render(
        request,
        "run.html",
        principal,
        trace=trace,
        run=trace.run,
        graph=execution_graph(trace),
        rows=waterfall(trace),
        steps=[step_detail(s) for s in trace.spans],
        counts=counts,
        kinds=[k.value for k in SpanKind],
        findings=state.store.list_findings(trace_id=trace.trace_id, limit=200),
        scores=scores_of(trace.spans),
        replays=state.store.list_replay_reports(source_trace_id=trace.trace_id, limit=20),
        feedback=state.store.list_feedback(trace.trace_id),
        feedback_trace_id=trace.trace_id,
    )
