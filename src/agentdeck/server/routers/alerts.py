"""Alerts: list by status, one alert, acknowledge and resolve (deploy scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.monitor.alerts import ACKNOWLEDGED, ACTIVE, OPEN, RESOLVED, set_alert_status
from agentdeck.server.auth import Principal
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.project_scope import agent_visible
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
    principal: ReadKey,
    status: str = Query(
        "active", description="active (open + acknowledged), open, acknowledged, resolved or all."
    ),
    rule: str | None = Query(None, description="Only this rule's."),
    limit: int = Query(200, description="At most this many (1..1000)."),
) -> list[dict[str, Any]]:
    if not 1 <= limit <= 1000:
        raise InputError(f"query.limit: expected 1..1000, got {limit}")
    found = state.store.list_alerts(
        statuses(status), rule or None, limit=limit, project=principal.project
    )
    return [alert_json(a) for a in found]


def _own_alert(state: Any, principal: Principal, alert_id: str) -> AlertRecord:
    """The alert (id or unique prefix) if its agent is the principal's project's, else 404."""
    alert = state.store.get_alert(alert_id)
    if alert is None or not agent_visible(state.store, principal, alert.agent_name):
        raise UnresolvedReferenceError(
            alert_id, "no alert with that id (or the prefix is ambiguous)"
        )
    return alert


@router.get("/{alert_id}", summary="One alert (id or unique id prefix)")
def get_alert(alert_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    return alert_json(_own_alert(state, principal, alert_id))


@router.post("/{alert_id}/ack", summary="Acknowledge an alert (agentdeck alerts ack)")
def ack_alert(alert_id: str, state: State, principal: DeployKey) -> dict[str, Any]:
    alert = _own_alert(state, principal, alert_id)
    return alert_json(set_alert_status(state.store, alert.id, ACKNOWLEDGED, principal.actor))


@router.post("/{alert_id}/resolve", summary="Resolve an alert (agentdeck alerts resolve)")
def resolve_alert(alert_id: str, state: State, principal: DeployKey) -> dict[str, Any]:
    alert = _own_alert(state, principal, alert_id)
    return alert_json(set_alert_status(state.store, alert.id, RESOLVED, principal.actor))
