"""``GET /metrics``: the Prometheus text exposition of monitoring's metrics.

Read scope by default (Prometheus sends ``authorization: {credentials: <key>}`` from its scrape
config); ``AGENTDECK_METRICS_OPEN=1`` (``ServerSettings(metrics_open=True)``) serves it without
a key, as scrape targets often are on a private network.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from agentdeck.monitor.metrics import CONTENT_TYPE, metrics_text
from agentdeck.server.deps import READ, get_state

router = APIRouter(tags=["monitoring"])


def metrics_access(request: Request) -> None:
    """Open when the server's settings say so; otherwise a read key."""
    if not get_state(request).settings.metrics_open:
        READ(request)


@router.get(
    "/metrics",
    summary="Prometheus metrics (read scope unless AGENTDECK_METRICS_OPEN=1)",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
)
async def metrics() -> Response:
    body = await run_in_threadpool(metrics_text)
    return Response(body, media_type=CONTENT_TYPE)
