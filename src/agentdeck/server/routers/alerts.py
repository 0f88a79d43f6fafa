"""Alerts: list by status, one alert, acknowledge and resolve (deploy scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.monitor.alerts import ACKNOWLEDGED, ACTIVE, OPEN, RESOLVED, set_alert_status
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.serialize import alert_json

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "active": ACTIVE,
    OPEN: (OPEN,),
    ACKNOWLEDGED: (ACKNOWLEDGED,),
    RESOLVED: (RESOLVED,),
    "all": None,
}


def statuses(status: str) -> tuple[str, ...] | None:
    """The stored statuses a ``status`` filter selects; errors name the query parameter."""
    if status not in STATUS_FILTERS:
        raise InputError(
            f"query.status: expected one of {', '.join(STATUS_FILTERS)}, got {status!r}"
        )
    return STATUS_FILTERS[status]


@router.get("", summary="Alerts, newest first (agentdeck alerts)")
def list_alerts(
    state: State,
    _: ReadKey,
    status: str = Query(
        "active", description="active (open + acknowledged), open, acknowledged, resolved or all."
    ),
    rule: str | None = Query(None, description="Only this rule's."),
    limit: int = Query(200, description="At most this many (1..1000)."),
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 1000:
        raise InputError(f"query.limit: expected 1..1000, got {limit}")
    found = state.store.list_alerts(statuses(status), rule or None, limit=limit)
    return [alert_json(a) for a in found]


@router.get("/{alert_id}", summary="One alert (id or unique id prefix)")
def get_alert(alert_id: str, state: State, _: ReadKey) -> dict[str, Any]:
    alert = state.store.get_alert(alert_id)
    if alert is None:
        raise UnresolvedReferenceError(
            alert_id, "no alert with that id (or the prefix is ambiguous)"
        )
    return alert_json(alert)


@router.post("/{alert_id}/ack", summary="Acknowledge an alert (agentdeck alerts ack)")
def ack_alert(alert_id: str, state: State, principal: DeployKey) -> dict[str, Any]:
    return alert_json(set_alert_status(state.store, alert_id, ACKNOWLEDGED, principal.actor))


@router.post("/{alert_id}/resolve", summary="Resolve an alert (agentdeck alerts resolve)")
def resolve_alert(alert_id: str, state: State, principal: DeployKey) -> dict[str, Any]:
    return alert_json(set_alert_status(state.store, alert_id, RESOLVED, principal.actor))
