"""Authentication of requests: the FastAPI dependency that checks a key's scope.

Keys themselves (format, hashing, scopes, agent patterns) live in
:mod:`agentdeck.registry.keys`, shared with the CLI. A request authenticates with
``Authorization: Bearer <key>``; the web UI instead carries a session token in its HttpOnly,
SameSite=Strict cookie (set by ``POST /ui/session``; see :mod:`agentdeck.registry.sessions`):
the cookie never holds the key. Missing credential or unknown/revoked key or dead session: 401
(429 with ``Retry-After`` once an address has failed too often, see
:mod:`agentdeck.server.ratelimit`); a key without the route's scope: 403.

Projects: a request acts in its key's project. An all-projects key (an admin key of
``default``) chooses another with the header ``X-Agentdeck-Project`` (the UI: the project
cookie its switcher sets); any other key naming a project not its own is refused (403). A
route acts on the principal's project only if :mod:`agentdeck.server.project_routes` lists it
as scoped (or global); every other route refuses requests in a project other than ``default``
(403): a route that has not been made project-aware fails closed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import AgentDeckError, InputError
from agentdeck.registry.keys import Principal, Scope, authenticate
from agentdeck.registry.sessions import SessionPolicy, session_principal
from agentdeck.server.ratelimit import FailureLimiter
from agentdeck.store.protocol import KeyStore

COOKIE_NAME = "agentdeck_session"
#: The header an all-projects key names its project with, and the UI's cookie for the same.
PROJECT_HEADER = "x-agentdeck-project"
PROJECT_COOKIE = "agentdeck_project"

__all__ = [
    "COOKIE_NAME",
    "PROJECT_COOKIE",
    "PROJECT_HEADER",
    "AuthContext",
    "AuthError",
    "Principal",
    "Scope",
    "bearer_of",
    "client_address",
    "is_https",
    "require",
    "require_agent",
    "require_any",
]


class AuthError(AgentDeckError):
    """A request without a usable credential (401), with a key lacking the scope (403), or
    from an address that failed too often (429, ``retry_after`` seconds)."""

    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        self.http_status = status
        self.retry_after = retry_after
        super().__init__(message)


@dataclass(frozen=True)
class AuthContext:
    """What authentication needs: the keys (and sessions), the session lifetimes, the failure
    limiter, and whether proxy headers (X-Forwarded-For/-Proto) are to be believed."""

    keys: KeyStore
    sessions: SessionPolicy
    limiter: FailureLimiter
    behind_proxy: bool = False


#: Methods that change nothing: a session cookie alone is enough for them.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Headers the UI's own requests carry on changes (``fetch`` sets the first, htmx the second).
#: A cross-site form cannot set a header, and a cross-site ``fetch`` that sets one needs a CORS
#: preflight this server never grants: so the session cookie cannot be ridden from another
#: page, not even one on the same host (SameSite treats every port of a host as one site).
UI_HEADERS = ("x-agentdeck-ui", "hx-request")


def bearer_of(request: Request) -> str | None:
    """The bearer token of the Authorization header, if there is a well-formed one."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def client_address(request: Request, behind_proxy: bool) -> str:
    """The client's address: the peer, or behind a proxy the address it appended last to
    X-Forwarded-For (the only entry the proxy vouches for)."""
    if behind_proxy:
        forwarded = request.headers.get("x-forwarded-for", "")
        last = forwarded.rsplit(",", 1)[-1].strip()
        if last:
            return last
    return request.client.host if request.client else "unknown"


def is_https(request: Request, behind_proxy: bool) -> bool:
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "") if behind_proxy else ""
    return proto.split(",", 1)[0].strip().lower() == "https"


def _principal(request: Request, ctx: AuthContext) -> Principal:
    bearer = bearer_of(request)
    cookie = None if "authorization" in request.headers else request.cookies.get(COOKIE_NAME)
    if bearer is None and not cookie:
        raise AuthError(401, "missing API key: send Authorization: Bearer <key>")
    if bearer is not None:
        principal = authenticate(ctx.keys, bearer)
        failure = "invalid or revoked API key"
    else:
        principal = session_principal(ctx.keys, cookie or "", ctx.sessions)
        failure = "session expired or signed out: sign in again"
    if principal is None:
        wait = ctx.limiter.failed(client_address(request, ctx.behind_proxy))
        if wait is not None:
            raise AuthError(
                429, f"too many failed authentications; retry in {wait} s", retry_after=wait
            )
        raise AuthError(401, failure)
    return principal


def require(
    scope: Scope, ctx_of: Callable[[Request], AuthContext]
) -> Callable[[Request], Principal]:
    """A dependency that admits a request whose key has ``scope`` and returns its principal."""
    return require_any((scope,), ctx_of)


def require_any(
    scopes: tuple[Scope, ...], ctx_of: Callable[[Request], AuthContext]
) -> Callable[[Request], Principal]:
    """A dependency that admits a key with any of ``scopes`` (the route then narrows what the
    lesser scope may see, e.g. an ingest key reads only the approval requests it created)."""
    wanted = " or ".join(repr(s.value) for s in scopes)

    def dependency(request: Request) -> Principal:
        if (
            request.method not in SAFE_METHODS
            and "authorization" not in request.headers
            and COOKIE_NAME in request.cookies
            and not any(request.headers.get(h) for h in UI_HEADERS)
        ):
            raise AuthError(
                403,
                "a browser session must send the X-Agentdeck-UI header to change anything "
                "(cross-site requests cannot); API clients send Authorization: Bearer <key>",
            )
        ctx = ctx_of(request)
        principal = _principal(request, ctx)
        if not any(principal.allows(s) for s in scopes):
            raise AuthError(
                403, f"API key {principal.name!r} lacks the {wanted} scope for this route"
            )
        principal = _in_project(request, ctx, principal)
        request.state.principal = principal
        return principal

    dependency.__name__ = "require_" + "_or_".join(s.value for s in scopes)
    return dependency


def _route_key(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', '?')}"


def _in_project(request: Request, ctx: AuthContext, principal: Principal) -> Principal:
    """The principal acting in the project the request names (header, else the UI's cookie
    for a session), refused where the key may not act or the route is not project-aware."""
    from agentdeck.server.project_routes import GLOBAL, SCOPED

    wanted = request.headers.get(PROJECT_HEADER)
    source = "header X-Agentdeck-Project"
    if wanted is None and "authorization" not in request.headers:
        wanted, source = request.cookies.get(PROJECT_COOKIE), "the project cookie"
    if wanted and wanted != principal.project:
        if not principal.all_projects:
            if source == "the project cookie":
                wanted = principal.project  # a stale switcher choice: the key's own project
            else:
                raise AuthError(
                    403,
                    f"{source}: API key {principal.name!r} belongs to project "
                    f"{principal.project!r} and acts only there",
                )
        elif ctx.keys.get_project(wanted) is None:
            raise InputError(f"{source}: no project {wanted!r}")
        principal = principal.in_project(wanted)
    key = _route_key(request)
    if principal.project != DEFAULT_PROJECT and key not in SCOPED and key not in GLOBAL:
        raise AuthError(
            403,
            f"{key} serves the default project only (it is not project-scoped yet); "
            f"this request acts in project {principal.project!r}",
        )
    return principal


def require_agent(principal: Principal, agent_name: str) -> None:
    """Refuse (403) a key bound to agent patterns acting on an agent outside them."""
    if not principal.may_act_on(agent_name):
        raise AuthError(
            403,
            f"API key {principal.name!r} may act only on agents matching "
            f"{', '.join(principal.agents)}, not {agent_name!r}",
        )
