"""The shop's tools (pinned schemas in :data:`TOOL_SPECS`) and a live-call log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentdeck.core.spec.agent import ToolSpec
from agentdeck.tracing.sdk.api import tool

LIVE_CALLS: list[tuple[str, dict[str, Any]]] = []  # every time a tool really ran

ORDERS = {
    "ORD-1": {"order_id": "ORD-1", "amount": 20.0, "email": "ann@example.com"},
    "ORD-2": {"order_id": "ORD-2", "amount": 35.5, "email": "bob@example.com"},
}

TOOL_SPECS = (
    ToolSpec(
        "lookup_order",
        "Fetch an order by id.",
        input_schema={
            "type": "object",
            "properties": {"order_id": {"type": "string", "pattern": "^ORD-[0-9]+$"}},
            "required": ["order_id"],
            "additionalProperties": False,
        },
        version="1.0.0",
    ),
    ToolSpec(
        "refund",
        "Refund part of an order.",
        input_schema={
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["order_id", "amount"],
            "additionalProperties": False,
        },
        version="1.0.0",
    ),
    ToolSpec(
        "notify",
        "Email the customer.",
        input_schema={
            "type": "object",
            "properties": {"to": {"type": "string"}, "text": {"type": "string"}},
            "required": ["to", "text"],
            "additionalProperties": False,
        },
        version="1.0.0",
    ),
)


@tool
def lookup_order(order_id: str) -> dict[str, Any]:
    LIVE_CALLS.append(("lookup_order", {"order_id": order_id}))
    if order_id not in ORDERS:
        raise KeyError(f"no order {order_id}")
    return dict(ORDERS[order_id])


@tool
def refund(order_id: str, amount: float) -> dict[str, Any]:
    LIVE_CALLS.append(("refund", {"order_id": order_id, "amount": amount}))
    return {"refund_id": f"R-{order_id}", "amount": amount}


@tool
def notify(to: str, text: str) -> dict[str, Any]:
    LIVE_CALLS.append(("notify", {"to": to, "text": text}))
    return {"sent": True}


TOOLS: dict[str, Callable[..., Any]] = {
    "lookup_order": lookup_order,
    "refund": refund,
    "notify": notify,
}
