"""API keys (admin scope): list, create (the key is in the answer, once), revoke; each within
the request's project."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.registry.keys import create_key, revoke_key
from agentdeck.server.deps import AdminKey, State
from agentdeck.server.serialize import key_json

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])


class CreateKey(BaseModel):
    name: str = Field(description="A unique name; recorded as the actor of what the key does.")
    scopes: list[str] = Field(description="ingest, read, deploy and/or admin.")
    agents: list[str] = Field(
        default_factory=list,
        description="Agent name patterns (support-*) the key may act on; none: every agent.",
    )
    all_projects: bool = Field(
        False,
        description="An admin key of the default project that may act in every project "
        "(only an all-projects key may create one).",
    )


@router.get("", summary="List the project's API keys (never their secrets)")
def list_keys(state: State, principal: AdminKey) -> list[dict[str, Any]]:
    return [key_json(k) for k in state.store.list_api_keys() if k.project == principal.project]


@router.post(
    "",
    status_code=201,
    summary="Create an API key of the request's project; the answer holds it, once",
)
def create(body: CreateKey, state: State, principal: AdminKey) -> dict[str, Any]:
    if body.all_projects and not principal.all_projects:
        raise InputError("body.all_projects: only an all-projects key may create one")
    new = create_key(
        state.store, body.name, body.scopes, principal.actor, body.agents,
        project=principal.project, all_projects=body.all_projects,
    )  # fmt: skip
    return {**key_json(new.record), "key": new.token}


@router.delete("/{id_or_name}", summary="Revoke an API key of the request's project")
def revoke(id_or_name: str, state: State, principal: AdminKey) -> dict[str, Any]:
    if not any(
        id_or_name in (k.id, k.name) and k.project == principal.project
        for k in state.store.list_api_keys()
    ):
        raise UnresolvedReferenceError(id_or_name, "no API key of that id or name")
    return key_json(revoke_key(state.store, id_or_name, principal.actor))
