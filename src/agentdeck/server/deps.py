"""What every route shares: the server's state (store, services, writer) and auth dependencies.

A route asks for a scope by annotating a parameter (``principal: DeployKey``) or by listing
``Depends(READ)`` in its decorator; either way the request is refused without a key (401) or
with a key lacking the scope (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import Depends, Request

from agentdeck.core.redaction.redact import Redactor
from agentdeck.monitor.checks import RunChecker
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.registry.sessions import SessionPolicy
from agentdeck.server.alert_loop import AlertLoop
from agentdeck.server.auth import AuthContext, Principal, Scope, require, require_any
from agentdeck.server.ingest_writer import IngestWriter
from agentdeck.server.otlp_forward import OtlpForwarder
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
    auth: AuthContext | None = None  # create_app builds it (auth_context)
    forwarder: OtlpForwarder | None = None  # AGENTDECK_FORWARD_OTLP_ENDPOINT


def auth_context(store: KeyStore, settings: ServerSettings) -> AuthContext:
    from datetime import timedelta

    from agentdeck.server.ratelimit import FailureLimiter

    return AuthContext(
        store,
        SessionPolicy(
            timedelta(seconds=settings.session_lifetime_s),
            timedelta(seconds=settings.session_idle_s),
        ),
        FailureLimiter(settings.auth_failure_limit, settings.auth_failure_window_s),
        settings.behind_proxy,
    )


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.agentdeck
    return state


def _auth(request: Request) -> AuthContext:
    ctx = get_state(request).auth
    assert ctx is not None, "create_app builds the auth context"
    return ctx


State = Annotated[ServerState, Depends(get_state)]

INGEST = require(Scope.INGEST, _auth)
READ = require(Scope.READ, _auth)
DEPLOY = require(Scope.DEPLOY, _auth)
ADMIN = require(Scope.ADMIN, _auth)
READ_OR_INGEST = require_any((Scope.READ, Scope.INGEST), _auth)

IngestKey = Annotated[Principal, Depends(INGEST)]
ReadKey = Annotated[Principal, Depends(READ)]
DeployKey = Annotated[Principal, Depends(DEPLOY)]
AdminKey = Annotated[Principal, Depends(ADMIN)]
#: read, or ingest (the SDK's key), which the route must narrow to what that key may see
ReadOrIngestKey = Annotated[Principal, Depends(READ_OR_INGEST)]
