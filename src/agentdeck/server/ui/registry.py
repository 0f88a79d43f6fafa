"""The registry: agents, their versions, and the semantic diff between two side by side."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_agent
from agentdeck.server.ui.common import render
from agentdeck.server.ui.view import side_by_side

router = APIRouter(include_in_schema=False)
NAV = ("Registry", "/ui/registry", 20)


@router.get("/ui/registry", response_class=HTMLResponse)
def registry_page(request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    agents = []
    for name in state.store.list_agent_names(principal.project):
        versions = state.store.list_agent_versions(name)
        if versions:
            agents.append((name, versions[-1], len(versions)))
    return render(request, "registry.html", principal, agents=agents)


@router.get("/ui/registry/{name}", response_class=HTMLResponse)
def agent_page(
    name: str,
    request: Request,
    state: State,
    principal: ReadKey,
    a: int | None = None,
    b: int | None = None,
) -> HTMLResponse:
    own_agent(state.store, principal, name)
    versions = state.registry.versions(name)
    diff = rows = None
    va = vb = None
    if len(versions) >= 2:
        a = a if a is not None else versions[-2].version
        b = b if b is not None else versions[-1].version
        va = state.registry.get(f"{name}@{a}")
        vb = state.registry.get(f"{name}@{b}")
        diff = state.registry.diff(va.ref, vb.ref)
        rows = side_by_side(va.spec.system_prompt, vb.spec.system_prompt)
    return render(
        request,
        "agent.html",
        principal,
        name=name,
        versions=list(reversed(versions)),
        a=va,
        b=vb,
        diff=diff,
        prompt_rows=rows,
    )
