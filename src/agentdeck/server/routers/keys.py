"""API keys (admin scope): list, create (the key is in the answer, once), revoke."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

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


@router.get("", summary="List API keys (never their secrets)")
def list_keys(state: State, _: AdminKey) -> list[dict[str, Any]]:
    return [key_json(k) for k in state.store.list_api_keys()]


@router.post("", status_code=201, summary="Create an API key; the answer holds it, once")
def create(body: CreateKey, state: State, principal: AdminKey) -> dict[str, Any]:
    new = create_key(state.store, body.name, body.scopes, principal.actor, body.agents)
    return {**key_json(new.record), "key": new.token}


@router.delete("/{id_or_name}", summary="Revoke an API key")
def revoke(id_or_name: str, state: State, principal: AdminKey) -> dict[str, Any]:
    return key_json(revoke_key(state.store, id_or_name, principal.actor))
