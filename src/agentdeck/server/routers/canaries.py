"""Canaries: start one (``promote --canary`` over HTTP), see it judged, pause, resume, abort.
Writes need a deploy key and record its name as the actor."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from agentdeck.records.serialize import canary_json
from agentdeck.registry.canary import Canaries
from agentdeck.server.agent_scope import require_agent, require_agent_ref
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.project_scope import own_agent, own_agent_ref

router = APIRouter(prefix="/api/v1", tags=["deployments"])


class CanaryBody(BaseModel):
    ref: str = Field(description="The candidate (name@N, name@sha256:...).")
    env: str = Field(description="The environment whose runs it shares.")
    share: float = Field(10.0, gt=0, lt=100, description="Percent of runs on the candidate.")
    shadow: bool = Field(False, description="A shadow: the candidate never answers a user.")
    force: bool = Field(False, description="Override failing gates (needs a reason).")
    reason: str = ""
    canary_id: str | None = Field(
        None,
        pattern="^[0-9a-f]{32}$",
        description="Fix the canary's id (32 hex digits), and with it which sessions go to the "
        "candidate: a reproducible split. Default: random.",
    )


class ControlBody(BaseModel):
    env: str
    reason: str = ""


def _service(state: Any) -> Canaries:
    return Canaries(state.store, state.deployments)


@router.post("/canaries", summary="Start a canary: a share of an env's runs on a candidate")
def start(body: CanaryBody, state: State, principal: DeployKey) -> dict[str, Any]:
    require_agent_ref(principal, body.ref)
    own_agent_ref(state.store, principal, body.ref)
    c = _service(state).start(
        body.ref, body.env, body.share, principal.actor,
        shadow=body.shadow, force=body.force, reason=body.reason, canary_id=body.canary_id,
    )  # fmt: skip
    return canary_json(c)


@router.get("/canaries/{name}", summary="The canary of an agent in an env, freshly judged")
def status(
    name: str, state: State, principal: ReadKey, env: str = Query(description="The environment.")
) -> dict[str, Any]:
    own_agent(state.store, principal, name)
    svc = _service(state)
    c = svc.get(name, env)
    return canary_json(c, svc.evidence(c, svc.evaluate(c)) if c.state.active else None)


@router.post("/canaries/{name}/{action}", summary="Pause, resume or abort an agent's canary")
def control(
    name: str,
    action: Literal["pause", "resume", "abort"],
    body: ControlBody,
    state: State,
    principal: DeployKey,
) -> dict[str, Any]:
    require_agent(principal, name)
    own_agent(state.store, principal, name)
    svc = _service(state)
    c = getattr(svc, action)(name, body.env, principal.actor, body.reason)
    return canary_json(c)
