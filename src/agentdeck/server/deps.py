"""What every route shares: the server's state (store, services, writer) and auth dependencies.

A route asks for a scope by annotating a parameter (``principal: DeployKey``) or by listing
``Depends(READ)`` in its decorator; either way the request is refused without a key (401) or
with a key lacking the scope (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request

from agentdeck.core.redact import Redactor
from agentdeck.monitor.checks import RunChecker
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.server.alert_loop import AlertLoop
from agentdeck.server.auth import Principal, Scope, require, require_any
from agentdeck.server.ingest_writer import IngestWriter
from agentdeck.server.post_ingest import AfterIngest
from agentdeck.server.settings import ServerSettings
from agentdeck.store.protocol import KeyStore, Store


class ServerStore(Store, KeyStore, Protocol):
    """The store the server needs: everything agentdeck persists, plus API keys."""


@dataclass(frozen=True)
class ServerState:
    store: ServerStore
    settings: ServerSettings
    registry: Registry
    deployments: Deployments
    writer: IngestWriter
    redactor: Redactor
    after_ingest: AfterIngest
    checker: RunChecker
    alert_loop: AlertLoop | None = None


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.agentdeck
    return state


def _keys(request: Request) -> KeyStore:
    return get_state(request).store


State = Annotated[ServerState, Depends(get_state)]

INGEST = require(Scope.INGEST, _keys)
READ = require(Scope.READ, _keys)
DEPLOY = require(Scope.DEPLOY, _keys)
ADMIN = require(Scope.ADMIN, _keys)
READ_OR_INGEST = require_any((Scope.READ, Scope.INGEST), _keys)

IngestKey = Annotated[Principal, Depends(INGEST)]
ReadKey = Annotated[Principal, Depends(READ)]
DeployKey = Annotated[Principal, Depends(DEPLOY)]
AdminKey = Annotated[Principal, Depends(ADMIN)]
#: read, or ingest (the SDK's key), which the route must narrow to what that key may see
ReadOrIngestKey = Annotated[Principal, Depends(READ_OR_INGEST)]
