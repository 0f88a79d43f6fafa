"""What a route checks so that a key reads and acts only within its project.

A record of another project answers exactly as a record that does not exist (404), so ids and
names do not leak across projects. Agent and policy names are unique on a server (the project
that registers a name first owns it); a name nobody registered yet belongs to no project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import ConflictError, UnresolvedReferenceError
from agentdeck.core.spec.refs import parse_ref
from agentdeck.core.trace.model import Run, Span
from agentdeck.registry.keys import Principal
from agentdeck.store.protocol import ProjectStore, RegistryStore, TraceStore
from agentdeck.tracing.analysis.queries import find_trace_id

__all__ = [
    "agent_visible",
    "in_project",
    "own_agent",
    "own_agent_ref",
    "own_policy",
    "own_policy_ref",
    "own_run",
    "visible_agents",
]


def agent_visible(store: RegistryStore, principal: Principal, name: str | None) -> bool:
    """Whether the principal's project sees records of agent ``name``: an agent it owns, or
    for the default project also a name no project registered (and records of no agent), as
    before projects."""
    owner = store.agent_project(name) if name else None
    return owner == principal.project or (owner is None and principal.project == DEFAULT_PROJECT)


def visible_agents(store: RegistryStore, principal: Principal) -> Callable[[str | None], bool]:
    """:func:`agent_visible` for many records (each name asked once)."""
    seen: dict[str | None, bool] = {}

    def visible(name: str | None) -> bool:
        if name not in seen:
            seen[name] = agent_visible(store, principal, name)
        return seen[name]

    return visible


def own_agent(store: RegistryStore, principal: Principal, name: str) -> None:
    """Refuse (404) an agent name that another project owns (and, outside the default
    project, one that no project registered)."""
    if not agent_visible(store, principal, name):
        raise UnresolvedReferenceError(name, "no agent of that name is registered")


def own_agent_ref(store: RegistryStore, principal: Principal, ref: str) -> None:
    """Refuse (404) a reference to an agent that another project owns."""
    own_agent(store, principal, parse_ref(ref).name)


def own_policy(store: RegistryStore, principal: Principal, name: str) -> None:
    """Refuse (404) a policy name that another project owns."""
    owner = store.policy_project(name)
    if owner is not None and owner != principal.project:
        raise UnresolvedReferenceError(name, "no policy of that name is registered")


def own_policy_ref(store: RegistryStore, principal: Principal, ref: str) -> None:
    own_policy(store, principal, parse_ref(ref).name)


def own_run(store: TraceStore, principal: Principal, run_id: str) -> str:
    """The full id of the principal's project's run ``run_id`` (id or unique prefix among
    that project's runs); another project's run is not found (404)."""
    tid = find_trace_id(store, run_id, principal.project)
    run = store.get_run(tid)
    if run is None or run.project != principal.project:
        if run is None and principal.project == DEFAULT_PROJECT:
            return tid  # spans without a run (yet): the default project's, as before projects
        raise UnresolvedReferenceError(run_id, "no run with that id")
    return tid


class IngestStore(RegistryStore, ProjectStore, Protocol):
    """What :func:`in_project` reads: agent owners and run owners."""


def in_project(
    store: IngestStore,
    principal: Principal,
    runs: list[Run],
    spans: list[Span],
    where: str = "body",
) -> list[Run]:
    """An ingested batch's runs stamped with the principal's project, after refusing (409,
    naming the field) a run or span of a run that another project holds, and a run of an
    agent that another project registered."""
    ids = [r.trace_id for r in runs] + [s.trace_id for s in spans]
    owners = store.run_projects(ids) if ids else {}
    fields = [(f"runs[{i}]", r.trace_id) for i, r in enumerate(runs)]
    fields += [(f"spans[{i}]", sp.trace_id) for i, sp in enumerate(spans)]
    for field, trace_id in fields:
        owner = owners.get(trace_id)
        if owner is not None and owner != principal.project:
            raise ConflictError(
                f"{where}.{field}.trace_id: a run of that id belongs to another project"
            )
    checked: dict[str, None] = {}
    for i, r in enumerate(runs):
        if r.agent_name and r.agent_name not in checked:
            owner = store.agent_project(r.agent_name)
            if owner is not None and owner != principal.project:
                raise ConflictError(
                    f"{where}.runs[{i}].agent_name: agent {r.agent_name!r} belongs to "
                    "another project"
                )
            checked[r.agent_name] = None
    return [r if r.project == principal.project else replace(r, project=principal.project)
            for r in runs]  # fmt: skip
