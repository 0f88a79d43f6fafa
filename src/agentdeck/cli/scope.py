"""What a CLI command checks so that ``--project`` reads and acts only within one project.

The same rules as the API's (``agentdeck.server.project_scope``): a record of another project
is reported exactly as one that does not exist, and records scoped through their agent are the
project's agents', and in ``default`` also those of no agent or of a name no project
registered (as before projects).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agentdeck.cli.common import get_store, project_in

if TYPE_CHECKING:
    from agentdeck.store import SqlStore

__all__ = [
    "agent_visible",
    "own_agent",
    "own_agent_ref",
    "own_run",
    "own_store",
    "visible_agents",
]


def agent_visible(store: Any, project: str, name: str | None) -> bool:
    """Whether ``project`` sees records of agent ``name``."""
    from agentdeck.core.access.projects import DEFAULT_PROJECT

    owner = store.agent_project(name) if name else None
    return owner == project or (owner is None and project == DEFAULT_PROJECT)


def visible_agents(store: Any, project: str) -> Callable[[str | None], bool]:
    """:func:`agent_visible` for many records (each name asked once)."""
    seen: dict[str | None, bool] = {}

    def visible(name: str | None) -> bool:
        if name not in seen:
            seen[name] = agent_visible(store, project, name)
        return seen[name]

    return visible


def own_agent(store: Any, project: str, name: str) -> None:
    """Refuse an agent name that another project owns (and, outside the default project, one
    that no project registered), as a missing agent."""
    from agentdeck.core.errors import UnresolvedReferenceError

    if not agent_visible(store, project, name):
        raise UnresolvedReferenceError(name, "no agent of that name is registered")


def own_agent_ref(store: Any, project: str, ref: str) -> None:
    """Refuse a reference (``name``, ``name@N``, ``name@ENV``) to another project's agent."""
    from agentdeck.core.spec.refs import parse_ref

    own_agent(store, project, parse_ref(ref).name)


def own_run(store: Any, project: str, run_id: str) -> str:
    """The full id of ``project``'s run ``run_id`` (id or unique prefix among that project's
    runs); another project's run is "no run with that id"."""
    from agentdeck.core.access.projects import DEFAULT_PROJECT
    from agentdeck.core.errors import UnresolvedReferenceError
    from agentdeck.tracing.analysis.queries import find_trace_id

    tid = find_trace_id(store, run_id, project)
    run = store.get_run(tid)
    if run is None or run.project != project:
        if run is None and project == DEFAULT_PROJECT:
            return tid  # spans without a run (yet): the default project's, as before projects
        raise UnresolvedReferenceError(run_id, "no run with that id")
    return tid


def own_store(db: str | None, project: str | None, *refs: str | None) -> SqlStore:
    """The store, after checking ``project`` and refusing (as a missing agent) each of
    ``refs`` that names an agent another project owns."""
    store = get_store(db)
    in_project = project_in(store, project)
    for ref in refs:
        if ref is not None:
            own_agent_ref(store, in_project, ref)
    return store
