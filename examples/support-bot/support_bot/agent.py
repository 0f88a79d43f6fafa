"""The support agent: a tool-calling loop over ``model.complete``, and its five tools.

``run_agent(input, *, model)`` is the spec's entrypoint (``support_bot.agent:run_agent``):
it asks the model, runs the tool calls the model makes, appends their results to the
conversation, and repeats until the model answers without tool calls or ``MAX_STEPS`` model
calls have been made. A tool that fails (or that the policy denies) is reported to the model as
an ``{"error": ...}`` result, as a real agent framework would.

``model_client(spec)`` gives the version's own model: the deterministic scripted model, or an
OpenAI-compatible chat-completions client when ``OPENAI_API_KEY`` (or
``AGENTDECK_OPENAI_API_KEY``) and ``OPENAI_BASE_URL`` are set.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import agentdeck
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model_call import ModelClient
from support_bot import shop

MAX_STEPS = 8
DEFAULT_PROMPT = "You are the customer-support agent of an online shop."


class ToolFailed(Exception):
    """A tool refused the call (unknown order, bad recipient, refund above the order amount)."""


def _pinned_version(tool: str) -> tuple[str | None, str | None]:
    """The calling agent's pinned version of ``tool`` and the env it runs in."""
    run = agentdeck.current_run()
    if run is None or run.agent is None:
        return None, None
    spec = run.agent.spec.tool(tool)
    return (spec.version if spec else None), run.env


@agentdeck.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    """Fetch an order by id (the response's shape follows the provider's API version)."""
    o = shop.order(order_id)
    if o is None:
        raise ToolFailed(f"no order {order_id}")
    pinned, env = _pinned_version("lookup_order")
    return shop.order_response(o, shop.PROVIDER.serves(pinned, env))


@agentdeck.tool
def verify_identity(order_id: str, email: str) -> dict[str, Any]:
    """Check that ``email`` is the order's customer."""
    o = shop.order(order_id)
    return {"verified": o is not None and o.email.lower() == str(email).strip().lower()}


@agentdeck.tool
def issue_refund(order_id: str, amount: float, reason: str) -> dict[str, Any]:
    """Refund (part of) an order to the original payment method."""
    o = shop.order(order_id)
    if o is None:
        raise ToolFailed(f"no order {order_id}")
    if amount > o.amount:
        raise ToolFailed(f"refund {amount} exceeds the order amount {o.amount}")
    return {"refund_id": shop.LEDGER.refund(order_id, amount, reason), "status": "issued"}


@agentdeck.tool
def send_email(to: str, subject: str, body: str) -> dict[str, Any]:
    """Send an e-mail to a customer."""
    if not isinstance(to, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", to):
        raise ToolFailed(f"invalid recipient {to!r}")
    return {"message_id": shop.LEDGER.email(to, subject)}


@agentdeck.tool
def search_kb(query: str, top_k: int = 3) -> dict[str, Any]:
    """Search the help-center knowledge base."""
    return {"results": shop.search(query, top_k)}


TOOLS = {
    f.__name__: f for f in (lookup_order, verify_identity, issue_refund, send_email, search_kb)
}
TOOL_DEFS = [
    {"name": name, "description": (fn.__doc__ or "").strip(), "input_schema": {"type": "object"}}
    for name, fn in TOOLS.items()
]


def _offered(spec: AgentSpec | None) -> list[dict[str, Any]]:
    if spec is None:
        return TOOL_DEFS
    return [
        {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema or {})}
        for t in spec.tools
    ]


def _parse_input(input: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(input, dict):
        return str(input.get("message", "")), [dict(m) for m in input.get("history") or ()]
    return str(input), []


def run_agent(input: Any, *, model: ModelClient) -> str:
    """Answer one customer message (or ``{"message", "history"}``) using the tools."""
    message, history = _parse_input(input)
    run = agentdeck.current_run()
    spec = run.agent.spec if run is not None and run.agent is not None else None
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": spec.system_prompt if spec else DEFAULT_PROMPT},
        *history,
        {"role": "user", "content": message},
    ]
    tools = _offered(spec)
    params = dict(spec.model.params) if spec else {}
    for _ in range(MAX_STEPS):
        response = model.complete(messages, tools, params)
        messages.append(response.message)
        calls = response.tool_calls
        if not calls:
            return str(response.content or "")
        for call in calls:
            fn = TOOLS.get(call.name)
            try:
                if fn is None:
                    raise ToolFailed(f"unknown tool {call.name}")
                result: Any = fn(**call.arguments)
            except agentdeck.PolicyDenied as exc:
                result = {"error": f"denied by policy: {exc.message}"}
            except Exception as exc:
                result = {"error": f"{type(exc).__name__}: {exc}"}
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": call.id,
                    "name": call.name,
                    "content": json.dumps(result),
                }
            )
    return "I'm sorry, I could not finish this request; a colleague will follow up."


def model_client(spec: AgentSpec) -> ModelClient:
    """The scripted model, or a real OpenAI-compatible client when a key and base URL are set."""
    key = os.environ.get("AGENTDECK_OPENAI_API_KEY") or os.environ.get("OPENAI_API_KEY")
    base = os.environ.get("OPENAI_BASE_URL")
    if key and base:
        from support_bot.openai_compat import OpenAICompatClient

        return OpenAICompatClient(base, key, spec.model.id)
    from support_bot.scripted import ScriptedModel

    return ScriptedModel(spec)
