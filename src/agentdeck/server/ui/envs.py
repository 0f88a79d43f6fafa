"""Environments: the promotion path, each agent's deployment timeline, promote and rollback.

Each agent in each env gets a promote form and a rollback form, each with a version picker and
a button that names the exact change ("Roll back production to support-bot@1"). Both lead to a
plan page (``/ui/envs/plan``) that shows what would happen before anything changes: for a
promotion, the env's gates evaluated on the candidate by the same
:meth:`~agentdeck.registry.deployments.Deployments.check_gates` that ``agentdeck promote`` runs
(a dry run: nothing is stored); for a rollback, the version put back and the deployment marked
bad. Its confirm button posts to the API (``/api/v1/deployments/promote`` or ``rollback``) with
the signed-in session, so the API's deploy scope, agent binding and audit apply unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.core.deploy.model import Deployment, GateResult, Health
from agentdeck.core.errors import InputError
from agentdeck.core.spec.artifacts import AgentVersion
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_agent
from agentdeck.server.ui.common import render

router = APIRouter(include_in_schema=False)
NAV = ("Environments", "/ui/envs", 30)
ACTIONS = ("promote", "rollback")


@dataclass(frozen=True)
class Choice:
    """One entry of a version picker: the version, its label, and whether it is preselected."""

    version: int
    label: str
    selected: bool


@dataclass(frozen=True)
class Timeline:
    """One agent in one env: its deployments (newest first) and the two pickers."""

    agent: str
    history: list[Deployment]
    promote: list[Choice]
    rollback: list[Choice]


def _label(v: AgentVersion, tags: list[str]) -> str:
    return f"{v.ref}" + (f" ({', '.join(tags)})" if tags else "")


def _promote_choices(
    versions: list[AgentVersion], head: Deployment | None, upstream: Deployment | None
) -> list[Choice]:
    """Every version, newest first; preselected: what the previous env runs (if it differs
    from this env's), else the newest version."""
    default = versions[-1].version if versions else 0
    if upstream is not None and (head is None or upstream.agent_version != head.agent_version):
        default = upstream.agent_version
    out = []
    for v in reversed(versions):
        tags = []
        if head is not None and v.version == head.agent_version:
            tags.append("deployed here")
        if upstream is not None and v.version == upstream.agent_version:
            tags.append("in the previous env")
        out.append(Choice(v.version, _label(v, tags), v.version == default))
    return out


def _rollback_choices(
    versions: list[AgentVersion], history: list[Deployment], target: AgentVersion | None
) -> list[Choice]:
    """The versions other than the deployed one, newest first; preselected: what a plain
    rollback puts back (the previous known-good), else the newest one deployed here before."""
    if not history:
        return []
    head = history[0]
    bad = {d.agent_version for d in history if d.health is Health.BAD}
    before = [d.agent_version for d in history[1:] if d.agent_version != head.agent_version]
    default = target.version if target is not None else (before[0] if before else None)
    out = []
    for v in reversed(versions):
        if v.version == head.agent_version:
            continue
        tags = ["previous known-good"] if target is not None and v.version == target.version else []
        if v.version in bad:
            tags.append("marked bad")
        elif v.version not in before:
            tags.append("never deployed here")
        out.append(Choice(v.version, _label(v, tags), v.version == default))
    if out and default is None:
        out[0] = Choice(out[0].version, out[0].label, True)
    return out


@router.get("/ui/envs", response_class=HTMLResponse)
def envs_page(request: Request, state: State, principal: ReadKey) -> HTMLResponse:
    store = state.store
    deployments = state.deployments
    path = deployments.path()
    names = store.list_agent_names(principal.project)  # the project's agents only
    versions = {n: store.list_agent_versions(n) for n in names}
    envs = []
    for env in path.envs:
        upstream_env = path.previous(env)
        timelines = []
        for name in names:
            history = list(reversed(store.history(name, env)))
            head = history[0] if history else None
            upstream = store.head(name, upstream_env) if upstream_env else None
            target = deployments.rollback_target(name, env) if head else None
            timelines.append(
                Timeline(
                    name,
                    history,
                    _promote_choices(versions[name], head, upstream),
                    _rollback_choices(versions[name], history, target),
                )
            )
        envs.append((env, timelines))
    return render(request, "envs.html", principal, path=path.envs, envs=envs, agents=names)


@router.get("/ui/envs/plan", response_class=HTMLResponse)
def plan_page(
    request: Request,
    state: State,
    principal: ReadKey,
    action: str,
    agent: str,
    env: str,
    version: int,
) -> HTMLResponse:
    """What a promotion or rollback would do, before it is done (nothing is stored here)."""
    if action not in ACTIONS:
        raise InputError(f"query.action: expected promote or rollback, got {action!r}")
    own_agent(state.store, principal, agent)  # another project's agent: 404, as a missing one
    deployments = state.deployments
    deployments.path().index(env)  # an unknown env: 404 naming it
    candidate = state.registry.get(f"{agent}@{version}")
    head = state.store.head(agent, env)
    gates: list[GateResult] = []
    if action == "promote":
        gates = deployments.check_gates(candidate, env)
        title = f"Promote {candidate.ref} to {env}"
    else:
        if head is None:
            raise InputError(f"{agent}@{env}: nothing is deployed there to roll back")
        title = f"Roll back {env} to {candidate.ref}"
    failing = [g for g in gates if not g.passed]
    marked_bad = any(
        d.agent_digest == candidate.digest and d.health is Health.BAD
        for d in state.store.history(agent, env)
    )
    return render(
        request,
        "env_plan.html",
        principal,
        action=action,
        title=title,
        agent=agent,
        env=env,
        candidate=candidate,
        head=head,
        gates=gates,
        failing=failing,
        same=head is not None and head.agent_digest == candidate.digest,
        marked_bad=marked_bad,
    )
