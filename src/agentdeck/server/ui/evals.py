"""Evals: stored suite results per agent version, with pass rate and each case's verdict."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.evals.result import EvalResult
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_agent
from agentdeck.server.ui.common import render

router = APIRouter(include_in_schema=False)
NAV = ("Evals", "/ui/evals", 45)


@router.get("/ui/evals", response_class=HTMLResponse)
def evals_page(
    request: Request, state: State, principal: ReadKey, agent: str = "", suite: str = ""
) -> HTMLResponse:
    agents = state.store.list_agent_names(principal.project)
    if agent:
        own_agent(state.store, principal, agent)  # another project's agent: 404
    results = state.store.eval_results(
        agent_name=agent or None, suite_name=suite or None, limit=200, project=principal.project
    )
    by_version: dict[tuple[str, int], list[EvalResult]] = {}
    for r in results:
        by_version.setdefault((r.agent_name, r.agent_version), []).append(r)
    groups = sorted(by_version.items(), key=lambda kv: (kv[0][0], -kv[0][1]))
    return render(
        request,
        "evals.html",
        principal,
        agents=agents,
        filters={"agent": agent, "suite": suite},
        groups=groups,
        total=len(results),
    )
