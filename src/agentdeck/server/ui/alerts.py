"""Alerts: open, acknowledged and resolved, with acknowledge/resolve buttons (deploy scope)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from agentdeck.server.deps import ReadKey, State
from agentdeck.server.routers.alerts import statuses
from agentdeck.server.ui.common import render

router = APIRouter(include_in_schema=False)
NAV = ("Alerts", "/ui/alerts", 50)
TABS = ("active", "open", "acknowledged", "resolved", "all")


@router.get("/ui/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request, state: State, principal: ReadKey, status: str = "active"
) -> HTMLResponse:
    status = status if status in TABS else "active"
    project = principal.project
    found = state.store.list_alerts(statuses(status), limit=500, project=project)
    counts = {
        s: len(state.store.list_alerts((s,), limit=1000, project=project))
        for s in ("open", "acknowledged", "resolved")
    }
    return render(
        request, "alerts.html", principal, alerts=found, status=status, tabs=TABS, counts=counts
    )
