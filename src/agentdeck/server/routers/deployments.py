"""Deployments and environments: promote, rollback, mark, history, at; the promotion path and
gate settings. Writes record the API key's name as the actor."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.deploy.model import GateConfig, Health
from agentdeck.registry.keys import Principal
from agentdeck.server.agent_scope import require_agent, require_agent_ref
from agentdeck.server.auth import AuthError
from agentdeck.server.deps import AdminKey, DeployKey, ReadKey, State
from agentdeck.server.project_scope import own_agent, own_agent_ref
from agentdeck.server.serialize import deployment_json, parse_time
from agentdeck.server.validation import JsonObject

router = APIRouter(prefix="/api/v1", tags=["deployments"])


class PromoteBody(BaseModel):
    ref: str = Field(description="Agent reference to promote (name@N, name@ENV, ...).")
    env: str = Field(description="Target environment.")
    force: bool = Field(False, description="Override failing gates (needs a reason).")
    reason: str = ""


class RollbackBody(BaseModel):
    agent: str
    env: str
    to: str | None = Field(
        None, description="A reference to roll back to (default: previous known-good)."
    )
    reason: str = ""


class MarkBody(BaseModel):
    agent: str
    env: str
    health: Literal["good", "bad"]
    deployment_id: str | None = None


class PathBody(BaseModel):
    envs: list[str] = Field(description="Environments in promotion order.")


class GatesBody(BaseModel):
    settings: dict[str, JsonObject] = Field(default_factory=dict)
    disabled: list[str] = Field(default_factory=list)


@router.post("/deployments/promote", summary="Promote an agent version into an environment")
def promote(body: PromoteBody, state: State, principal: DeployKey) -> dict[str, Any]:
    require_agent_ref(principal, body.ref)
    own_agent_ref(state.store, principal, body.ref)
    result = state.deployments.promote(
        body.ref, body.env, principal.actor, force=body.force, reason=body.reason
    )
    return {
        "deployment": deployment_json(result.deployment),
        "gates": [{"name": g.name, "passed": g.passed, "reason": g.reason} for g in result.gates],
    }


@router.post("/deployments/rollback", summary="Roll an environment back")
def rollback(body: RollbackBody, state: State, principal: DeployKey) -> dict[str, Any]:
    require_agent(principal, body.agent)
    own_agent(state.store, principal, body.agent)
    if body.to:
        require_agent_ref(principal, body.to)
        own_agent_ref(state.store, principal, body.to)
    d = state.deployments.rollback(
        body.agent, body.env, principal.actor, to_ref=body.to, reason=body.reason
    )
    return deployment_json(d)


@router.post("/deployments/mark", summary="Mark a deployment good or bad")
def mark(body: MarkBody, state: State, principal: DeployKey) -> dict[str, Any]:
    require_agent(principal, body.agent)
    own_agent(state.store, principal, body.agent)
    d = state.deployments.mark(
        body.agent, body.env, Health(body.health), principal.actor, body.deployment_id
    )
    return deployment_json(d)


@router.get("/deployments/history", summary="The deployment history of an agent in an env")
def history(
    state: State, principal: ReadKey, agent: str = Query(), env: str = Query()
) -> list[dict[str, Any]]:
    own_agent(state.store, principal, agent)
    return [deployment_json(d) for d in state.deployments.history(agent, env)]


@router.get("/deployments/at", summary="Which deployment was in force at a time (null if none)")
def at(
    state: State,
    principal: ReadKey,
    agent: str = Query(),
    env: str = Query(),
    time: str = Query(description="ISO 8601 (UTC if no offset) or nanoseconds since the epoch."),
) -> dict[str, Any] | None:
    own_agent(state.store, principal, agent)
    d = state.deployments.at(agent, env, parse_time(time, "query.time"))
    return deployment_json(d) if d else None


@router.get("/envs", summary="The promotion path with each env's deployments and gates")
def envs(state: State, principal: ReadKey) -> list[dict[str, Any]]:
    store = state.store
    names = store.list_agent_names(principal.project)
    out = []
    for env in state.deployments.path().envs:
        cfg = store.get_gate_config(env)
        heads = {n: h for n in names if (h := store.head(n, env)) is not None}
        out.append(
            {
                "env": env,
                "gates": dict(cfg.settings),
                "disabled": list(cfg.disabled),
                "deployed": {n: deployment_json(h) for n, h in heads.items()},
            }
        )
    return out


def _server_admin(principal: Principal, what: str) -> None:
    """Environments and the promotion path are server-wide: only an admin key of the default
    project, or an all-projects admin key, changes them (403 naming why otherwise)."""
    if principal.project != DEFAULT_PROJECT and not principal.all_projects:
        raise AuthError(
            403,
            f"{what} is server-wide: only an admin key of the default project or an "
            f"all-projects admin key changes it (API key {principal.name!r} is of project "
            f"{principal.project!r})",
        )


@router.put(
    "/envs/path",
    summary="Set the promotion path (server-wide: the default project's admins, or an "
    "all-projects admin key)",
)
def set_path(body: PathBody, state: State, principal: AdminKey) -> dict[str, Any]:
    _server_admin(principal, "the promotion path")
    return {"envs": list(state.deployments.set_path(body.envs, principal.actor).envs)}


@router.get("/envs/{env}/gates", summary="An environment's gate settings")
def gates(env: str, state: State, _: ReadKey) -> dict[str, Any]:
    cfg = state.deployments.gate_config(env)
    return {"env": env, "settings": dict(cfg.settings), "disabled": list(cfg.disabled)}


@router.put(
    "/envs/{env}/gates",
    summary="Replace an environment's gate settings (server-wide: the default project's "
    "admins, or an all-projects admin key)",
)
def set_gates(env: str, body: GatesBody, state: State, principal: AdminKey) -> dict[str, Any]:
    _server_admin(principal, f"env {env}'s gate settings")
    state.deployments.set_gate_config(
        GateConfig(env, body.settings, tuple(body.disabled)), principal.actor
    )
    return {"env": env, "settings": body.settings, "disabled": body.disabled}
