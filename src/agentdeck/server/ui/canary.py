"""The canary panel of the environments page: an agent's canary in an env (arms side by
side, each guard rail's means and always-valid bounds, the step, what would stop it) and its
buttons (start, pause, resume, abort).

The panel is a fragment the page loads with htmx (``GET /ui/canary/{name}?env=ENV``); the
buttons post to ``/ui/canary/{name}/{action}`` (htmx's ``HX-Request`` header required besides
the SameSite=Strict session cookie, as the other UI posts) through the same service and audit
path as the CLI and API, and answer with the fragment again.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.errors import AgentDeckError, InputError
from agentdeck.registry.canary import Canaries
from agentdeck.server.agent_scope import require_agent
from agentdeck.server.auth import Scope
from agentdeck.server.body import read_body
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.project_scope import own_agent
from agentdeck.server.ui.approvals import NotFromThePage
from agentdeck.server.ui.common import templates

router = APIRouter(include_in_schema=False)
MAX_FORM_BYTES = 4 * 1024
ACTIONS = ("start", "pause", "resume", "abort")


async def canary_form(request: Request) -> dict[str, str]:
    if request.headers.get("hx-request") != "true":
        raise NotFromThePage("canary actions are posted by the environments page (HX-Request)")
    body = await read_body(request, MAX_FORM_BYTES)
    form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in form.items()}


Form = Annotated[dict[str, str], Depends(canary_form)]


def _panel(
    request: Request, state: Any, name: str, env: str, can_deploy: bool, error: str | None = None
) -> HTMLResponse:
    svc = Canaries(state.store, state.deployments)
    active = state.store.active_canary(name, env)
    latest = active or next(iter(state.store.list_canaries(name, env, 1)), None)
    judgement = None
    if active is not None:
        judgement = svc.evidence(active, svc.evaluate(active))
    elif latest is not None:
        judgement = dict(latest.judgement) or None
    versions = [v.version for v in state.store.list_agent_versions(name)]
    head = state.store.head(name, env)
    return templates.TemplateResponse(
        request,
        "canary_panel.html",
        {
            "name": name, "env": env, "canary": latest, "active": active is not None,
            "j": judgement, "can_deploy": can_deploy, "error": error,
            "versions": [v for v in versions if head is None or v != head.agent_version],
        },
    )  # fmt: skip


@router.get("/ui/canary/{name}", response_class=HTMLResponse)
def canary_panel(
    name: str, request: Request, state: State, principal: ReadKey, env: str = Query()
) -> HTMLResponse:
    own_agent(state.store, principal, name)  # another project's agent: 404, as a missing one
    state.deployments.path().index(env)
    return _panel(request, state, name, env, principal.allows(Scope.DEPLOY))


@router.post("/ui/canary/{name}/{action}", response_class=HTMLResponse)
def canary_action(
    name: str, action: str, request: Request, state: State, principal: DeployKey, form: Form
) -> HTMLResponse:
    if action not in ACTIONS:
        raise InputError(f"path: action must be one of {', '.join(ACTIONS)}, not {action!r}")
    require_agent(principal, name)
    own_agent(state.store, principal, name)
    env = form.get("env", "")
    state.deployments.path().index(env)
    svc = Canaries(state.store, state.deployments)
    error = None
    try:
        if action == "start":
            version = form.get("version", "").strip()
            try:
                share = float(form.get("share", "10"))
            except ValueError:
                raise InputError("form.share: a percent, e.g. 10") from None
            svc.start(f"{name}@{version}", env, share, principal.actor,
                      reason=form.get("reason", "").strip() or "canary from the web UI")  # fmt: skip
        else:
            getattr(svc, action)(name, env, principal.actor, f"{action} from the web UI")
    except AgentDeckError as exc:  # shown in the panel, nothing changed
        error = str(exc).splitlines()[0]
    return _panel(request, state, name, env, True, error)
