"""The agent loop both versions share: call the model, run the tools it asks for, repeat."""

from __future__ import annotations

import json
from typing import Any

from agentdeck.core.trace.model_call import ModelClient

from . import shop

PARAMS = {"temperature": 0}


def offered(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"name": t.name, "description": t.description, "input_schema": dict(t.input_schema or {})}
        for t in shop.TOOL_SPECS
        if t.name in names
    ]


def agent_loop(
    question: str,
    model: ModelClient,
    *,
    tools: tuple[str, ...],
    system: str,
    transform_args: Any = None,
    max_steps: int = 8,
) -> str:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        {"role": "user", "content": question},
    ]
    for _ in range(max_steps):
        reply = model.complete(messages, offered(tools), dict(PARAMS))
        messages.append(reply.message)
        if not reply.tool_calls:
            return str(reply.content)
        for tc in reply.tool_calls:
            args = transform_args(tc.name, tc.arguments) if transform_args else tc.arguments
            try:
                result: Any = shop.TOOLS[tc.name](**args)
            except Exception as exc:  # the model sees tool failures and decides
                result = {"error": str(exc)}
            messages.append(
                {
                    "role": "tool",
                    "name": tc.name,
                    "tool_call_id": tc.id,
                    "content": json.dumps(result, sort_keys=True),
                }
            )
    return "gave up"
