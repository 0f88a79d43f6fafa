"""Monitoring: baselines, window checks (drift) and per-run check findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.monitor.checks import check_trace, checked_json
from agentdeck.monitor.profiles import (
    baseline_summary,
    create_baseline,
    load_baseline,
    select_runs,
)
from agentdeck.monitor.window import check_window, parse_duration
from agentdeck.server.auth import Principal
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.monitor_view import MAX_BUCKETS, monitor_series
from agentdeck.server.project_scope import (
    agent_visible,
    own_agent,
    own_agent_ref,
    own_run,
    visible_agents,
)
from agentdeck.server.serialize import baseline_json, finding_json, parse_time

router = APIRouter(prefix="/api/v1", tags=["monitoring"])


class BaselineBody(BaseModel):
    name: str = Field(description="Unique baseline name (letters, digits, '.', '_', '-').")
    agent: str = Field(description="name (all versions) or name@N / name@sha256:... / name@ENV.")
    env: str | None = Field(None, description="Only runs of this environment.")
    since: str | None = Field(None, description="Runs started at or after (ISO 8601 or ns).")
    until: str | None = Field(None, description="Runs started before (ISO 8601 or ns).")
    eval_run: str | None = Field(None, description="Runs whose attribute eval.run_id is this.")


@router.get("/baselines", summary="Baselines (newest first), optionally of one agent")
def list_baselines(
    state: State, principal: ReadKey, agent: str | None = Query(None, description="Agent name.")
) -> list[dict[str, Any]]:
    visible = visible_agents(state.store, principal)
    found = state.store.list_baselines(agent or None)
    return [baseline_json(b) for b in found if visible(b.agent_name)]


def _own_baseline(state: Any, principal: Principal, name: str) -> None:
    rec = state.store.get_baseline(name)
    if rec is not None and not agent_visible(state.store, principal, rec.agent_name):
        raise UnresolvedReferenceError(
            name, "no baseline with that name (see agentdeck baseline list)"
        )


@router.get("/baselines/{name}", summary="A baseline's headline numbers (agentdeck baseline show)")
def get_baseline(name: str, state: State, principal: ReadKey) -> dict[str, Any]:
    _own_baseline(state, principal, name)
    rec, profile = load_baseline(state.store, name)
    return baseline_summary(rec, profile)


@router.post(
    "/baselines", status_code=201, summary="Profile stored runs into a new baseline (deploy scope)"
)
def post_baseline(body: BaselineBody, state: State, principal: DeployKey) -> dict[str, Any]:
    own_agent_ref(state.store, principal, body.agent)
    sel = select_runs(
        state.store,
        body.agent,
        body.env or None,
        parse_time(body.since, "body.since") if body.since else None,
        parse_time(body.until, "body.until") if body.until else None,
        body.eval_run or None,
    )
    rec, profile = create_baseline(state.store, body.name, sel, principal.actor)
    return baseline_summary(rec, profile)


@router.get(
    "/monitors/window",
    summary="Compare the last window of an agent's runs with a baseline (agentdeck monitor)",
)
def window_check(
    state: State,
    principal: ReadKey,
    agent: str = Query(description="name, or name@N / name@sha256:... / name@ENV."),
    env: str | None = Query(None, description="Environment of the runs (default: all)."),
    window: str = Query("1h", description="Window length: 90s, 15m, 1h, 7d, 2w."),
    baseline: str | None = Query(None, description="Baseline (default: the latest for the env)."),
) -> dict[str, Any]:
    own_agent_ref(state.store, principal, agent)
    if baseline:
        _own_baseline(state, principal, baseline)
    wc = check_window(
        state.store, agent, env or None, parse_duration(window, "query.window"), baseline or None
    )
    return wc.to_dict()


@router.get("/findings", summary="Per-run check findings, newest first (agentdeck findings)")
def list_findings(
    state: State,
    principal: ReadKey,
    agent: str | None = Query(None, description="Agent name."),
    check: str | None = Query(None, description="Check name (unknown_tool, invalid_args, ...)."),
    run: str | None = Query(None, description="Trace id of one run."),
    since: str | None = Query(None, description="Found at or after (ISO 8601 or ns)."),
    limit: int = Query(100, description="At most this many (1..1000)."),
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 1000:
        raise InputError(f"query.limit: expected 1..1000, got {limit}")
    found = state.store.list_findings(
        agent or None,
        check or None,
        own_run(state.store, principal, run) if run else None,
        parse_time(since, "query.since") if since else None,
        limit,
        project=principal.project,
    )
    return [finding_json(f) for f in found]


@router.post(
    "/runs/{run_id}/check",
    summary="Run the per-run checks on a stored run now and store its findings (agentdeck check)",
)
def check_run(run_id: str, state: State, principal: DeployKey) -> dict[str, Any]:
    tid = own_run(state.store, principal, run_id)
    return checked_json(check_trace(state.store, tid, state.checker))


@router.get(
    "/monitors/series",
    summary="An agent's behaviour over time: tool mix, rates and drift per time bucket",
)
def series(
    state: State,
    principal: ReadKey,
    agent: str = Query(description="Agent name."),
    env: str | None = Query(None, description="Environment of the runs (default: all)."),
    window: str = Query("1h", description="Time range ending now: 15m, 1h, 6h, 1d, 7d."),
    buckets: int = Query(12, description="Number of time buckets (1..200)."),
) -> dict[str, Any]:
    if not 1 <= buckets <= MAX_BUCKETS:
        raise InputError(f"query.buckets: expected 1..{MAX_BUCKETS}, got {buckets}")
    own_agent(state.store, principal, agent)
    found = monitor_series(
        state.store,
        agent,
        env or None,
        datetime.now(UTC),
        parse_duration(window, "query.window"),
        buckets,
    )
    return found.to_dict()
