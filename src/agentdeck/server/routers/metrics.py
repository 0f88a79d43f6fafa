"""``GET /metrics``: the Prometheus text exposition of monitoring's metrics.

Read scope by default (Prometheus sends ``authorization: {credentials: <key>}`` from its scrape
config); ``AGENTDECK_METRICS_OPEN=1`` (``ServerSettings(metrics_open=True)``) serves it without
a key, as scrape targets often are on a private network.

The metrics are the server's (process-wide counters labelled by agent name, of every
project), so with a key only a key of the default project or an all-projects key reads them;
another project's key gets 403 naming why.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.monitor.metrics import CONTENT_TYPE, metrics_text
from agentdeck.server.auth import AuthError
from agentdeck.server.deps import READ, get_state

router = APIRouter(tags=["monitoring"])


def metrics_access(request: Request) -> None:
    """Open when the server's settings say so; otherwise a read key of the default project or
    an all-projects key."""
    if not get_state(request).settings.metrics_open:
        principal = READ(request)
        if principal.project != DEFAULT_PROJECT and not principal.all_projects:
            raise AuthError(
                403,
                "GET /metrics is server-wide (every project's agents): only a key of the "
                f"default project or an all-projects key reads it (API key {principal.name!r} "
                f"is of project {principal.project!r})",
            )


@router.get(
    "/metrics",
    summary="Prometheus metrics (read scope unless AGENTDECK_METRICS_OPEN=1)",
    response_class=Response,
    dependencies=[Depends(metrics_access)],
)
async def metrics() -> Response:
    body = await run_in_threadpool(metrics_text)
    return Response(body, media_type=CONTENT_TYPE)
