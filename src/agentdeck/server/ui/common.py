"""What every UI page shares: the Jinja2 environment, the navigation bar, the sign-in page."""

from __future__ import annotations

import functools
import importlib
import pkgutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from agentdeck.core.cost.format import cost_text
from agentdeck.server.auth import COOKIE_NAME, AuthError, Principal, Scope

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def _json_pretty(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()


def _ns_time(ns: int | None) -> str:
    if ns is None:
        return "-"
    return datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _short(digest: str | None, n: int = 12) -> str:
    if not digest:
        return "-"
    return digest[: len("sha256:") + n] if digest.startswith("sha256:") else digest[:n]


def _brief(value: Any, limit: int = 80) -> str:
    """A value in one line for a table cell: a string as it is (``I'd like a refund``, never
    JSON-escaped ``I\\u0027d``), anything else as compact JSON with its characters as they are;
    cut at ``limit`` characters. Plain text: the template's autoescaping makes it safe HTML."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    else:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _latency(ms: float | None) -> str:
    """A duration for a table cell: ``340 ms``, ``2.4 s``, ``3m 05s``."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(int(ms // 1000), 60)
    return f"{minutes}m {seconds:02d}s"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["brief"] = _brief
templates.env.filters["latency"] = _latency
templates.env.filters["json_pretty"] = _json_pretty
templates.env.filters["ns_time"] = _ns_time
templates.env.filters["short"] = _short
templates.env.globals["cost_text"] = cost_text  # a run's cost, "unpriced" when unknown


@functools.cache
def nav_items() -> tuple[tuple[str, str], ...]:
    """``(label, path)`` of every UI module that declares ``NAV``, in its declared order."""
    import agentdeck.server.ui as pkg

    items: list[tuple[int, str, str]] = []
    for info in pkgutil.iter_modules(pkg.__path__):
        module = importlib.import_module(f"{pkg.__name__}.{info.name}")
        nav = getattr(module, "NAV", None)
        if nav is not None:
            label, path, order = nav
            items.append((order, label, path))
    return tuple((label, path) for _, label, path in sorted(items))


def render(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` inside the layout, with the nav and what the key may do."""
    wide = principal is not None and principal.all_projects
    context.update(
        nav=nav_items(),
        principal=principal,
        # an all-projects key switches project (ui/session.py's POST /ui/project)
        projects=[p.name for p in request.app.state.agentdeck.store.list_projects()]
        if wide
        else [],
        can_deploy=principal is not None and principal.allows(Scope.DEPLOY),
        current_path=request.url.path,
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


#: The heading of an error page, by status (any other 4xx: "Bad request").
ERROR_TITLES = {
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    422: "Bad request",
    429: "Too many attempts",
}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    """A 4xx on a UI page: the message inside the layout (nav bar and the signed-in key, if
    the request got as far as authenticating), with links back to the lists."""
    principal = getattr(request.state, "principal", None)
    return render(
        request,
        "error.html",
        principal if isinstance(principal, Principal) else None,
        status,
        status=status,
        title=ERROR_TITLES.get(status, "Bad request"),
        message=message,
    )


def auth_page(request: Request, exc: AuthError) -> HTMLResponse:
    """401: the sign-in form (the page reloads itself once signed in), dropping a dead session
    cookie, with no complaint when nothing was presented yet (a first visit); 429: wait;
    403: why not."""
    if exc.http_status == 401:
        presented = "authorization" in request.headers or COOKIE_NAME in request.cookies
        page = templates.TemplateResponse(
            request, "login.html", {"message": str(exc) if presented else ""}, status_code=401
        )
        if COOKIE_NAME in request.cookies:
            page.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return page
    refused = error_page(request, exc.http_status, str(exc))
    if exc.retry_after is not None:
        refused.headers["Retry-After"] = str(exc.retry_after)
    return refused
