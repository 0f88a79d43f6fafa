"""The registry: agent and policy versions, the resolver, the semantic diff, lint."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.core.spec.agent import ResolvedAgent, lint_agent_spec, parse_agent_spec
from agentdeck.core.spec.arms import choose
from agentdeck.records.serialize import cost_change_json
from agentdeck.server.agent_scope import require_agent, require_policy
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.project_scope import own_agent, own_agent_ref, own_policy, own_policy_ref
from agentdeck.server.serialize import agent_version_json, policy_version_json
from agentdeck.server.validation import MAX_VERSION, JsonObject
from agentdeck.tracing.analysis.cost import version_cost_change

router = APIRouter(prefix="/api/v1", tags=["registry"])


class SpecBody(BaseModel):
    spec: JsonObject = Field(
        description="The agent spec document (as agent.yaml holds it; system_prompt inline)."
    )


class PolicyBody(BaseModel):
    policy: JsonObject = Field(description="The policy set document (as policy.yaml holds it).")


@router.get("/agents", summary="Agent names with their latest version")
def list_agents(state: State, principal: ReadKey) -> list[dict[str, Any]]:
    out = []
    for name in state.store.list_agent_names(principal.project):
        versions = state.store.list_agent_versions(name)
        if versions:
            out.append({**agent_version_json(versions[-1]), "versions": len(versions)})
    return out


@router.post("/agents", summary="Register an agent spec as a new immutable version")
def register_agent(body: SpecBody, state: State, principal: DeployKey) -> dict[str, Any]:
    spec = parse_agent_spec(body.spec, "body.spec")
    require_agent(principal, spec.name)
    av, created = state.registry.register_agent(
        spec, principal.actor, source="body.spec", project=principal.project
    )
    return {**agent_version_json(av), "created": created}


@router.get("/agents/{name}/versions", summary="The registered versions of an agent")
def versions(name: str, state: State, principal: ReadKey) -> list[dict[str, Any]]:
    own_agent(state.store, principal, name)
    return [agent_version_json(v) for v in state.registry.versions(name)]


@router.get("/agents/{ref}", summary="One agent version (name, name@N, name@sha256:..., name@ENV)")
def show_agent(ref: str, state: State, principal: ReadKey) -> dict[str, Any]:
    own_agent_ref(state.store, principal, ref)
    return agent_version_json(state.registry.get(ref), spec=True)


@router.get("/resolve", summary="Resolve a reference to the exact artifact (the SDK's resolver)")
def resolve(
    state: State,
    principal: ReadKey,
    ref: str = Query(description="An agent reference."),
    session_id: str | None = Query(None, max_length=200, description="Pick the canary arm."),
    user_id: str | None = Query(None, max_length=200, description="Pick the canary arm."),
    run_id: str | None = Query(None, max_length=64, description="Pick the canary arm."),
) -> dict[str, Any]:
    """With a canary on the env, the answer carries ``canary`` (the split, the candidate's
    spec); given a session, user or run id it is that run's arm instead, ``arm`` saying which."""
    own_agent_ref(state.store, principal, ref)
    r = state.registry.resolve(ref)
    if r.canary is not None and (session_id or user_id or run_id):
        choice = choose(r, session_id, user_id, run_id or uuid.uuid4().hex)
        if choice is not None:
            body = _resolved_json(choice.agent)
            return {**body, "arm": choice.arm, "share": choice.share}
    return _resolved_json(r)


def _resolved_json(r: ResolvedAgent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": r.name,
        "version": r.version,
        "digest": r.digest,
        "env": r.env,
        "deployment_id": r.deployment_id,
        "spec": r.spec.to_dict(),
    }
    if r.canary is not None:
        body["canary"] = {
            "canary_id": r.canary.canary_id,
            "share": r.canary.share,
            "key": r.canary.key,
            "candidate": _resolved_json(r.canary.candidate),
        }
    return body


@router.get("/diff", summary="Semantic diff between two agent versions")
def diff(
    state: State,
    principal: ReadKey,
    a: str = Query(description="The older reference."),
    b: str = Query(description="The newer reference."),
) -> dict[str, Any]:
    own_agent_ref(state.store, principal, a)
    own_agent_ref(state.store, principal, b)
    d = state.registry.diff(a, b)
    return {**d.to_dict(), "cost": cost_change_json(version_cost_change(state.store, d))}


@router.post("/lint", summary="Lint a spec: unpinned models, tools without schemas, no policy")
def lint(body: SpecBody, _: ReadKey) -> list[dict[str, str]]:
    spec = parse_agent_spec(body.spec, "body.spec")
    return [{"field": f.field, "code": f.code, "message": f.message} for f in lint_agent_spec(spec)]


@router.post("/policies", summary="Register a policy set (every rule compiled first)")
def register_policy(body: PolicyBody, state: State, principal: DeployKey) -> dict[str, Any]:
    policy = parse_policy_spec(body.policy, "body.policy")
    require_policy(principal, state.store, policy.name)
    pv, created = state.registry.register_policy(
        policy, principal.actor, source="body.policy", project=principal.project
    )
    return {**policy_version_json(pv), "created": created}


@router.get("/policies/{name}/versions", summary="The registered versions of a policy set")
def policy_versions(name: str, state: State, principal: ReadKey) -> list[dict[str, Any]]:
    own_policy(state.store, principal, name)
    found = state.store.list_policy_versions(name)
    if not found:
        raise UnresolvedReferenceError(name, "no policy of that name is registered")
    return [policy_version_json(p) for p in found]


@router.get(
    "/policies/{name}/{version}",
    summary="One policy version by name and number (the SDK's HttpPolicySource reads this)",
)
def show_policy_version(
    name: str,
    version: Annotated[int, Path(ge=1, le=MAX_VERSION)],
    state: State,
    principal: ReadKey,
) -> dict[str, Any]:
    own_policy(state.store, principal, name)
    return policy_version_json(state.registry.get_policy(f"{name}@{version}"), policy=True)


@router.get("/policies/{ref}", summary="One policy version with its rules")
def show_policy(ref: str, state: State, principal: ReadKey) -> dict[str, Any]:
    own_policy_ref(state.store, principal, ref)
    return policy_version_json(state.registry.get_policy(ref), policy=True)
