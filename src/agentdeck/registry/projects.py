"""Projects: create and list them. The service behind ``agentdeck projects`` and
``/api/v1/projects`` (kept below both, like :mod:`agentdeck.registry.keys`)."""

from __future__ import annotations

from agentdeck.core.access.projects import DEFAULT_PROJECT, ProjectRecord, check_project_name
from agentdeck.core.errors import InputError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.protocol import ProjectStore

__all__ = ["DEFAULT_PROJECT", "create_project", "require_project"]


def create_project(store: ProjectStore, name: str, actor: str) -> ProjectRecord:
    """Create project ``name`` (audited ``project.create``); a taken name is a conflict."""
    check_project_name(name, "name")
    return store.create_project(name, actor, AuditEvent(actor, "project.create", name, {}, name))


def require_project(store: ProjectStore, name: str, source: str = "--project") -> str:
    """``name`` when that project exists, else an :class:`InputError` naming ``source``."""
    check_project_name(name, source)
    if store.get_project(name) is None:
        known = ", ".join(p.name for p in store.list_projects())
        raise InputError(f"{source}: no project {name!r} (projects: {known})")
    return name
