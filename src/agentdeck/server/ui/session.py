"""Signing the browser in and out, and the vendored static files (behind a key as well)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from agentdeck.server.auth import COOKIE_NAME, token_of
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.ui.common import STATIC_DIR

router = APIRouter(include_in_schema=False)

_TYPES = {".js": "text/javascript", ".css": "text/css", ".md": "text/markdown"}


@router.post("/ui/session")
def sign_in(request: Request, state: State, principal: ReadKey) -> Response:
    """Store the key the request authenticated with in an HttpOnly, SameSite=Strict cookie."""
    token = token_of(request)
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE_NAME,
        token or "",
        httponly=True,
        samesite="strict",
        secure=state.settings.cookie_secure,
        path="/",
    )
    return response


@router.post("/ui/logout")
def sign_out(_: ReadKey) -> Response:
    response = RedirectResponse("/ui/runs", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response


@router.get("/ui")
def home(_: ReadKey) -> Response:
    return RedirectResponse("/ui/runs", status_code=303)


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
