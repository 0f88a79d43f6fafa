"""Runs: the list with filters, and one run's graph, waterfall and step details."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
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
from agentdeck.server.ui.run_view import offered_tools, run_header, shared_context
from agentdeck.server.ui.view import step_detail, waterfall
from agentdeck.tracing.analysis.queries import execution_graph, load_trace

router = APIRouter(include_in_schema=False)
NAV = ("Runs", "/ui/runs", 10)


#: The time-range picker: a label per choice and how far back it reaches (custom: from/to).
RANGES = {"": ("any time", None), "1h": ("last hour", 3600), "24h": ("last 24 h", 86400),
          "7d": ("last 7 days", 7 * 86400), "custom": ("custom", None)}  # fmt: skip
#: The filters the page keeps in its links (the search helper adds ``q``), in form order.
FILTERS = ("agent", "version", "env", "status", "tool", "has_errors", "denied", "outcome",
           "session_id", "user_id", "range", "since", "until")  # fmt: skip


def time_bounds(choice: str, since: str, until: str, now: datetime) -> tuple[str, str]:
    """The ``since``/``until`` query values for a range choice: a rolling window ends now;
    ``custom`` (or no choice) passes the from/to fields through (ISO 8601, UTC if no offset)."""
    if choice not in RANGES:
        raise InputError(f"query.range: expected one of 1h, 24h, 7d, custom, got {choice!r}")
    seconds = RANGES[choice][1]
    if seconds is not None:
        return (now - timedelta(seconds=seconds)).isoformat(), ""
    return (since, until) if choice == "custom" or since or until else ("", "")


def _version(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise InputError(f"query.version: expected a version number, got {text!r}")
    return int(text)


@router.get("/ui/runs", response_class=HTMLResponse)
def runs_page(
    request: Request,
    state: State,
    principal: ReadKey,
    agent: str = "",
    version: str = "",
    env: str = "",
    status: str = "",
    tool: str = "",
    has_errors: str = "",
    denied: str = "",
    outcome: str = "",
    session_id: str = "",
    user_id: str = "",
    range: str = "",
    since: str = "",
    until: str = "",
    limit: int = 50,
    cursor: str = "",
    search: str = Query("", alias="q"),
) -> HTMLResponse:
    filters = {"q": search, "agent": agent, "version": version, "env": env, "status": status, "tool": tool,
               "has_errors": has_errors, "denied": denied, "outcome": outcome,
               "session_id": session_id, "user_id": user_id, "range": range,
               "since": since, "until": until}  # fmt: skip
    error, total, next_href = None, None, None
    runs: list[Run] = []
    keep = {k: filters[k] for k in FILTERS if filters[k]}
    if limit != 50:
        keep["limit"] = str(limit)
    try:
        lo, hi = time_bounds(range, since, until, datetime.now(UTC))
        q = run_query(
            agent=agent,
            version=_version(version),
            env=env,
            status=status,
            since=lo,
            until=hi,
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
        q = replace(q, project=principal.project)
        runs = state.store.find_runs(q)
        total = state.store.count_runs(q)
        after = next_cursor(runs, q.limit)
        if after is not None:
            next_href = "/ui/runs?" + urlencode({**keep, "cursor": after.encode()})
    except InputError as exc:
        error = str(exc)
    agents = state.store.list_agent_names(principal.project)
    versions = (
        [v.version for v in state.store.list_agent_versions(agent)] if agent in agents else []
    )
    if versions and version.isdigit() and int(version) not in versions:
        versions.append(int(version))  # the filter in force stays visible
    return render(
        request,
        "runs.html",
        principal,
        runs=runs,
        total=total,
        next_href=next_href,
        first_href=("/ui/runs?" + urlencode(keep)) if cursor else None,
        filters=filters,
        ranges=RANGES,
        error=error,
        agents=agents,
        versions=versions,
        envs=state.deployments.path().envs,
        # an empty store (not an empty filter): the page says how to send the first runs
        no_runs_at_all=not runs and not keep and not cursor and error is None,
    )


@router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: str, request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    trace = load_trace(state.store, run_id, principal.project)
    counts: dict[str, int] = {}
    for s in trace.spans:
        counts[s.kind.value] = counts.get(s.kind.value, 0) + 1
    tool_sets, tools_of = offered_tools(trace.spans)
    return render(
        request,
        "run.html",
        principal,
        trace=trace,
        run=trace.run,
        header=run_header(state.store, trace),
        tool_sets=tool_sets,
        tools_of=tools_of,
        shared=shared_context(trace.spans),
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
