"""Environments: the promotion path, each agent's deployment timeline, and rollback."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.server.deps import ReadKey, State
from agentdeck.server.ui.common import render

router = APIRouter(include_in_schema=False)
NAV = ("Environments", "/ui/envs", 30)


@router.get("/ui/envs", response_class=HTMLResponse)
def envs_page(request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    store = state.store
    path = state.deployments.path().envs
    names = store.list_agent_names()
    envs = []
    for env in path:
        timelines = []
        for name in names:
            history = store.history(name, env)
            if history:
                timelines.append((name, list(reversed(history))))
        envs.append((env, timelines))
    return render(request, "envs.html", principal, path=path, envs=envs)
