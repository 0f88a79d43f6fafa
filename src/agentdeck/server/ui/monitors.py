"""Monitors: an agent's behaviour over time in an env (charts) and its latest drift report."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.errors import AgentDeckError
from agentdeck.monitor.window import check_window, parse_duration
from agentdeck.server.cost_view import cost_series
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.monitor_view import monitor_series
from agentdeck.server.project_scope import own_agent
from agentdeck.server.ui.common import render

router = APIRouter(include_in_schema=False)
NAV = ("Monitors", "/ui/monitors", 40)
WINDOWS = ("15m", "1h", "6h", "12h", "24h", "7d")


@router.get("/ui/monitors", response_class=HTMLResponse)
def monitors_page(
    request: Request,
    state: State,
    principal: ReadKey,
    agent: str = "",
    env: str = "",
    window: str = "1h",
    buckets: int = 12,
    drift_window: str = "",
) -> HTMLResponse:
    store = state.store
    agents = store.list_agent_names(principal.project)  # the picker: the project's agents
    if agent:
        own_agent(store, principal, agent)  # another project's agent: 404, as a missing one
    envs = state.deployments.path().envs
    agent = agent or (agents[0] if agents else "")
    env = env or ("production" if "production" in envs else (envs[-1] if envs else ""))
    window = window.strip()
    span = parse_duration(window, "query.window")  # any duration: ?window=24h, 90m, 2d
    windows = sorted({*WINDOWS, window}, key=lambda w: parse_duration(w))
    buckets = max(2, min(buckets, 48))
    series = report = cost = None
    error = report_error = None
    if agent:
        now = datetime.now(UTC)
        try:
            series = monitor_series(store, agent, env or None, now, span, buckets)
            cost = cost_series(store, agent, env or None, now, span, buckets)
        except AgentDeckError as exc:
            error = str(exc)
        # The drift report covers the latest window (default: the last quarter of the chart).
        recent = parse_duration(drift_window, "query.drift_window") if drift_window else span / 4
        try:
            report = check_window(store, agent, env or None, recent, now=now)
        except AgentDeckError as exc:
            report_error = str(exc)
    return render(
        request,
        "monitors.html",
        principal,
        agents=agents,
        envs=envs,
        windows=windows,
        selected={"agent": agent, "env": env, "window": window, "buckets": buckets},
        series=series.to_dict() if series else None,
        cost=cost,
        baseline=series.baseline if series else None,
        report=report,
        error=error,
        report_error=report_error,
        baselines=store.list_baselines(agent) if agent else [],
    )
