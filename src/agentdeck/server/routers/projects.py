"""Projects (admin scope): list them, create one. An all-projects key sees and creates every
project; a project's own admin key sees only its project."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agentdeck.records.serialize import project_json
from agentdeck.registry.projects import create_project
from agentdeck.server.auth import AuthError
from agentdeck.server.deps import AdminKey, State

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])


class CreateProject(BaseModel):
    name: str = Field(
        description="A lowercase slug (letters, digits, -): the project's name, for good."
    )


@router.get("", summary="Projects: every one for an all-projects key, else the key's own")
def list_projects(state: State, principal: AdminKey) -> list[dict[str, Any]]:
    return [
        project_json(p)
        for p in state.store.list_projects()
        if principal.all_projects or p.name == principal.project
    ]


@router.post("", status_code=201, summary="Create a project (an all-projects admin key)")
def create(body: CreateProject, state: State, principal: AdminKey) -> dict[str, Any]:
    if not principal.all_projects:
        raise AuthError(403, f"API key {principal.name!r} is not an all-projects key")
    return project_json(create_project(state.store, body.name, principal.actor))
