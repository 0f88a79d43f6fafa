"""Signing the browser in and out, the sign-in script, and the vendored static files (behind a
key as well)."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from agentdeck.registry.projects import require_project
from agentdeck.registry.sessions import close_session, open_session
from agentdeck.server.auth import COOKIE_NAME, PROJECT_COOKIE, AuthError, is_https
from agentdeck.server.body import read_body
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.ui.common import STATIC_DIR

router = APIRouter(include_in_schema=False)

_TYPES = {".js": "text/javascript", ".css": "text/css", ".md": "text/markdown"}


@router.post("/ui/session")
def sign_in(request: Request, state: State, principal: ReadKey) -> Response:
    """Open a server-side session for the key the request authenticated with; the HttpOnly,
    SameSite=Strict cookie carries the session's random token, never the key (``Secure``
    whenever the request came over HTTPS, directly or through a trusted proxy)."""
    ctx = state.auth
    assert ctx is not None
    token = open_session(ctx.keys, principal, ctx.sessions)
    return _with_cookie(Response(status_code=204), COOKIE_NAME, token, request, state)


def _with_cookie(
    response: Response, name: str, value: str, request: Request, state: State
) -> Response:
    """``response`` setting an HttpOnly, SameSite=Strict cookie that lives as long as a
    session (``Secure`` whenever the request came over HTTPS)."""
    ctx = state.auth
    assert ctx is not None
    response.set_cookie(
        name,
        value,
        max_age=int(ctx.sessions.lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=state.settings.cookie_secure or is_https(request, ctx.behind_proxy),
        path="/",
    )
    return response


@router.post("/ui/project")
async def switch_project(request: Request, state: State, principal: ReadKey) -> Response:
    """The project switcher of an all-projects key: remember the choice for this browser in
    an HttpOnly, SameSite=Strict cookie (read by the auth of every UI request; the CSRF rule
    of the session's changes applies: htmx sends its header) and reload the page."""
    if not principal.all_projects:
        raise AuthError(
            403, f"API key {principal.name!r} acts in project {principal.project!r} only"
        )
    body = await read_body(request, 4096)
    project = parse_qs(body.decode("utf-8", "replace")).get("project", [""])[0]
    await run_in_threadpool(require_project, state.store, project, "form.project")
    response = Response(status_code=204, headers={"HX-Refresh": "true"})
    return _with_cookie(response, PROJECT_COOKIE, project, request, state)


@router.post("/ui/logout")
def sign_out(request: Request, state: State, _: ReadKey) -> Response:
    """Revoke the session (the token is dead even if the cookie was copied) and drop the cookie."""
    token = request.cookies.get(COOKIE_NAME)
    if token and state.auth is not None:
        close_session(state.auth.keys, token)
    response = RedirectResponse("/ui/runs", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    response.delete_cookie(PROJECT_COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.get("/")
def root() -> Response:
    """The server's front door: the web UI (which asks for a key if the browser has none)."""
    return RedirectResponse("/ui", status_code=307)


@router.get("/ui")
def home(_: ReadKey) -> Response:
    return RedirectResponse("/ui/runs", status_code=303)


@router.get("/ui/login.js")
def login_script() -> Response:
    """The sign-in page's script: public, as the page is shown before any key is given."""
    return FileResponse(
        STATIC_DIR / "agentdeck-login.js",
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/static/{name}")
def static(name: str, _: ReadKey) -> Response:
    """A vendored file from ``server/static`` (flat folder; no path traversal possible)."""
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, f"static file {name!r} not found")
    return FileResponse(
        path,
        media_type=_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "private, max-age=3600"},
    )
