"""Authentication of requests: the FastAPI dependency that checks a key's scope.

Keys themselves (format, hashing, scopes) live in :mod:`agentdeck.registry.keys`, shared with
the CLI. A request authenticates with ``Authorization: Bearer <key>``; the web UI may instead
carry the key in its HttpOnly, SameSite=Strict session cookie (set by ``POST /ui/session``).
Missing or unknown key: 401; a key without the route's scope: 403.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from agentdeck.core.errors import AgentDeckError
from agentdeck.registry.keys import Principal, Scope, authenticate
from agentdeck.store.protocol import KeyStore

COOKIE_NAME = "agentdeck_key"

__all__ = [
    "COOKIE_NAME",
    "AuthError",
    "Principal",
    "Scope",
    "require",
    "require_any",
    "token_of",
]


class AuthError(AgentDeckError):
    """A request without a usable key (401) or with a key lacking the scope (403)."""

    def __init__(self, status: int, message: str) -> None:
        self.http_status = status
        super().__init__(message)


#: Methods that change nothing: a session cookie alone is enough for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Headers the UI's own requests carry on changes (``fetch`` sets the first, htmx the second).
#: A cross-site form cannot set a header, and a cross-site ``fetch`` that sets one needs a CORS
#: preflight this server never grants: so the session cookie cannot be ridden from another
#: page, not even one on the same host (SameSite treats every port of a host as one site).
UI_HEADERS = ("x-agentdeck-ui", "hx-request")


def token_of(request: Request) -> str | None:
    """The key a request carries: the bearer token, else the UI session cookie."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        return value.strip() if scheme.lower() == "bearer" and value.strip() else None
    return request.cookies.get(COOKIE_NAME)


def require(scope: Scope, keys_of: Callable[[Request], KeyStore]) -> Callable[[Request], Principal]:
    """A dependency that admits a request whose key has ``scope`` and returns its principal."""
    return require_any((scope,), keys_of)


def require_any(
    scopes: tuple[Scope, ...], keys_of: Callable[[Request], KeyStore]
) -> Callable[[Request], Principal]:
    """A dependency that admits a key with any of ``scopes`` (the route then narrows what the
    lesser scope may see, e.g. an ingest key reads only the approval requests it created)."""
    wanted = " or ".join(repr(s.value) for s in scopes)

    def dependency(request: Request) -> Principal:
        token = token_of(request)
        if token is None:
            raise AuthError(401, "missing API key: send Authorization: Bearer <key>")
        if (
            request.method not in SAFE_METHODS
            and "authorization" not in request.headers
            and not any(request.headers.get(h) for h in UI_HEADERS)
        ):
            raise AuthError(
                403,
                "a browser session must send the X-Agentdeck-UI header to change anything "
                "(cross-site requests cannot); API clients send Authorization: Bearer <key>",
            )
        principal = authenticate(keys_of(request), token)
        if principal is None:
            raise AuthError(401, "invalid or revoked API key")
        if not any(principal.allows(s) for s in scopes):
            raise AuthError(
                403, f"API key {principal.name!r} lacks the {wanted} scope for this route"
            )
        request.state.principal = principal
        return principal

    dependency.__name__ = "require_" + "_or_".join(s.value for s in scopes)
    return dependency
