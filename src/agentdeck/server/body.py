"""Request body size limits (HTTP 413 past them, before buffering it all): the
:class:`BodyLimit` middleware for every route, and :func:`read_body` for telemetry routes."""

from __future__ import annotations

import re

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agentdeck.core.errors import InputError


class PayloadTooLarge(InputError):
    http_status = 413

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body: larger than the server's limit of {limit} bytes")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body (still compressed, if it is); :class:`PayloadTooLarge` past ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


#: Paths whose bodies are telemetry batches (``max_body_bytes``); every other route takes
#: ``max_request_bytes``.
LARGE_BODY_PATHS = frozenset({"/api/v1/ingest", "/v1/traces"})


class BodyLimit:
    """ASGI middleware: every request body has a size limit, answered with a one-line JSON 413.

    A declared ``Content-Length`` past the limit is refused before the route runs. Other routes'
    bodies (small: JSON documents, forms) are read here up to the limit and handed on whole
    (one sent as JSON must be strict JSON, else a one-line 400);
    telemetry routes stream theirs through :func:`read_body`, which enforces their larger limit
    on the bytes as they arrive (and on the inflated size).
    """

    def __init__(self, app: ASGIApp, *, request_limit: int, telemetry_limit: int) -> None:
        self.app = app
        self.request_limit = request_limit
        self.telemetry_limit = telemetry_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        large = scope.get("path", "") in LARGE_BODY_PATHS
        limit = self.telemetry_limit if large else self.request_limit
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _too_large(limit, scope, receive, send)
            return
        if large or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if len(body) > limit:
                await _too_large(limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        problem = _json_problem(scope, bytes(body))
        if problem is not None:
            await JSONResponse({"error": problem}, 400)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _json_problem(scope: Scope, body: bytes) -> str | None:
    """Why a body sent as JSON is not strict JSON (invalid UTF-8, a lone surrogate escape,
    nesting past 1024) or holds a NUL character, or None. Such text would parse in the route and then fail where it is
    written; it is refused here in one line instead."""
    ctype = Headers(scope=scope).get("content-type", "")
    media = ctype.split(";")[0].strip().lower()
    if not body or not (media == "application/json" or media.endswith("+json")):
        return None
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _one_line(f"body: not valid JSON ({exc})")
    if _NUL_ESCAPE.search(body):
        return "body: a string holds a NUL character (\\u0000), which is not stored"
    return None


# \u0000 preceded by an even number of backslashes (an odd number escapes the backslash itself)
_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


async def _too_large(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    message = str(PayloadTooLarge(limit))
    await JSONResponse({"error": message}, 413, headers={"Connection": "close"})(
        scope, receive, send
    )
