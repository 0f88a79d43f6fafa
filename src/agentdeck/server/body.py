"""Reading a request body with a size limit (HTTP 413 past it, before buffering it all)."""

from __future__ import annotations

from fastapi import Request

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
