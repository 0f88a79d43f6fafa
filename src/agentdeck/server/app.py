"""The FastAPI application: ``create_app(store, settings)``.

It mounts every router module under ``agentdeck.server.routers`` and every UI module under
``agentdeck.server.ui`` (each exposes ``router``; see docs/api.md for adding one), maps
agentdeck's error tree to JSON bodies ``{"error": message}`` with each class's ``http_status``,
serves the OpenAPI schema at ``/api/openapi.json`` (behind a read key, like every route but
``/healthz``), and runs, for the app's lifetime, the ingest writer, the after-ingest worker
(per-run checks and online evaluators on stored runs) and, when alert rules are configured,
the alert-rule loop.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

import agentdeck.server.routers as routers_pkg
import agentdeck.server.ui as ui_pkg
from agentdeck.composition import all_gates
from agentdeck.core.errors import AgentDeckError
from agentdeck.monitor.alert_rules import load_alert_config
from agentdeck.monitor.checks import RunChecker
from agentdeck.registry.canary import Canaries
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import Gate
from agentdeck.registry.service import Registry
from agentdeck.server.alert_loop import AlertLoop
from agentdeck.server.auth import AuthError
from agentdeck.server.body import BodyLimit
from agentdeck.server.canary_loop import CanaryLoop
from agentdeck.server.deps import READ, ServerState, ServerStore, auth_context
from agentdeck.server.headers import SecurityHeaders
from agentdeck.server.ingest_writer import IngestBusy, IngestWriter
from agentdeck.server.otlp_forward import OtlpForwarder
from agentdeck.server.post_ingest import AfterIngest, load_online
from agentdeck.server.retention_loop import RetentionLoop
from agentdeck.server.settings import ServerSettings
from agentdeck.store.engine import is_sqlite

log = logging.getLogger("agentdeck.server")


def discover(package: ModuleType) -> list[ModuleType]:
    """The modules of ``package`` that expose ``router``, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        if isinstance(getattr(module, "router", None), APIRouter):
            found.append(module)
    return found


def _single_writer(store: ServerStore) -> bool:
    """SQLite (one writer at a time) gets the batching writer thread; PostgreSQL does not."""
    engine = getattr(store, "engine", None)
    return engine is None or is_sqlite(engine)


def _part(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _one_line(text: str) -> str:
    """A message fit for a JSON body: one line, and encodable (a lone surrogate taken from the
    input is written as an escape instead of failing the answer)."""
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text.replace("\r", "\\r").replace("\n", "\\n")


def _detail(error: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic error for the answer: its type, location and message (made encodable)."""
    loc = [p if isinstance(p, int) else _one_line(str(p)) for p in error.get("loc", ())]
    return {"type": error.get("type"), "loc": loc, "msg": _one_line(str(error.get("msg", "")))}


def _is_page(request: Request) -> bool:
    """A request for a web UI page (``GET /ui/...``): its errors are HTML pages inside the
    layout, while ``/api``, the UI's own actions (POSTs from htmx or fetch, whose scripts read
    the ``error`` of a JSON body) and everything else keep JSON bodies."""
    path = request.url.path
    return request.method in ("GET", "HEAD") and (path == "/ui" or path.startswith("/ui/"))


def _error_page(request: Request, status: int, message: str) -> Response:
    from agentdeck.server.ui.common import error_page

    return error_page(request, status, message)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AgentDeckError)
    async def agentdeck_error(request: Request, exc: AgentDeckError) -> Response:
        if isinstance(exc, AuthError) and request.url.path.startswith("/ui"):
            from agentdeck.server.ui.common import auth_page

            return auth_page(request, exc)
        if _is_page(request) and 400 <= exc.http_status < 500:
            return _error_page(request, exc.http_status, _one_line(str(exc)))
        retry = exc.retry_after if isinstance(exc, IngestBusy | AuthError) else None
        headers = {"Retry-After": str(retry)} if retry is not None else None
        if exc.http_status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse({"error": _one_line(str(exc))}, exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        if any(tuple(e.get("loc", ())) == ("body",) and isinstance(e.get("input"), bytes)
               for e in errors):  # fmt: skip
            # FastAPI parses JSON only under a JSON content type; anything else arrives as bytes
            ctype = request.headers.get("content-type") or "none"
            message = f"content-type: expected application/json, got {ctype}"
            return JSONResponse({"error": _one_line(message)}, 415)
        # the offending input (bytes, huge values) is not echoed back: it may not be JSON
        detail = [_detail(e) for e in errors]
        parts = [f"{_part(e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in detail]
        if _is_page(request):
            return _error_page(request, 422, _one_line("; ".join(parts)))
        return JSONResponse({"error": _one_line("; ".join(parts)), "detail": detail}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = _one_line(str(exc.detail))
        if _is_page(request) and 400 <= exc.status_code < 500:
            if exc.status_code == 404 and message == "Not Found":
                message = f"no page at {request.url.path}"
            return _error_page(request, exc.status_code, message)
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> Response:
        # a value that passed validation but that the database refuses (a length or character
        # the route did not bound): the request's fault, said in one line, and logged to fix
        log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return JSONResponse(
            {"error": _one_line(f"request: a value the store cannot hold ({reason})")}, 400
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse({"error": "internal server error; see the server log"}, 500)


def _canary_loop(store: ServerStore, settings: ServerSettings) -> CanaryLoop:
    """The canary judgement loop; alerts go to the sinks of the alert rules, else the log."""
    from agentdeck.monitor.alert_sinks import build_sinks

    sinks = (
        build_sinks(load_alert_config(settings.alert_rules).sinks) if settings.alert_rules else None
    )
    return CanaryLoop(Canaries(store), settings.canary_interval_s, sinks=sinks)


def _sampler(store: ServerStore, fraction: float) -> Callable[[Sequence[str]], int]:
    from agentdeck.tracing.sampling.keep import apply_sampling

    return lambda trace_ids: apply_sampling(store, trace_ids, fraction)


def create_app(
    store: ServerStore,
    settings: ServerSettings | None = None,
    *,
    gates: list[Gate] | None = None,
) -> FastAPI:
    """The agentdeck server on ``store`` (SQLite or PostgreSQL); ``gates`` default to every
    capability's gates, as the CLI has them (:mod:`agentdeck.composition`)."""
    settings = settings or ServerSettings()
    registry = Registry(store)
    checker = RunChecker(store)
    after = AfterIngest(
        store,
        checker if settings.check_on_ingest else None,
        load_online(settings.online_evaluators) if settings.online_evaluators else None,
        sampler=_sampler(store, settings.sampling_success_fraction),
    )
    alert_loop = (
        AlertLoop(store, load_alert_config(settings.alert_rules), settings.alert_interval_s)
        if settings.alert_rules
        else None
    )
    canary_loop = _canary_loop(store, settings)
    retention = (
        RetentionLoop(store, settings.retention_interval_s)
        if settings.retention_interval_s > 0
        else None
    )
    forwarder = (
        OtlpForwarder(
            settings.forward_otlp_endpoint,
            settings.forward_otlp_headers,
            max_pending=settings.forward_otlp_queue,
        )
        if settings.forward_otlp_endpoint
        else None
    )
    writer = IngestWriter(
        store,
        single_writer=_single_writer(store),
        max_pending=settings.ingest_queue,
        max_batch_spans=settings.writer_batch_spans,
        retry_after=settings.retry_after_s,
        on_stored=after.submit,
        on_written=forwarder.submit if forwarder is not None else None,
    )
    state = ServerState(
        store=store,
        settings=settings,
        registry=registry,
        deployments=Deployments(store, registry, gates if gates is not None else all_gates()),
        writer=writer,
        redactor=settings.redactor(),
        after_ingest=after,
        checker=checker,
        alert_loop=alert_loop,
        auth=auth_context(store, settings),
        forwarder=forwarder,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        after.start()
        if forwarder is not None:
            forwarder.start()
        writer.start()
        if alert_loop is not None:
            alert_loop.start()
        canary_loop.start()
        if retention is not None:
            retention.start()
        try:
            yield
        finally:
            canary_loop.close()
            if retention is not None:
                retention.close()
            if alert_loop is not None:
                alert_loop.close()
            writer.close()
            after.close()
            if forwarder is not None:
                forwarder.close()

    app = FastAPI(
        title="agentdeck",
        summary="Versioned agents, replay-capable traces, monitoring, policies, deployments.",
        version="1",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.agentdeck = state
    app.add_middleware(SecurityHeaders)
    app.add_middleware(
        BodyLimit,
        request_limit=settings.max_request_bytes,
        telemetry_limit=settings.max_body_bytes,
    )
    _install_error_handlers(app)
    for module in discover(routers_pkg) + discover(ui_pkg):
        app.include_router(module.router)

    @app.get("/api/openapi.json", tags=["health"], dependencies=[Depends(READ)])
    def openapi() -> dict[str, Any]:
        """The OpenAPI schema of this API."""
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title, version=app.version, summary=app.summary, routes=app.routes
            )
        return app.openapi_schema

    return app
