"""A scripted fake model: it reads the conversation and picks the next tool call.

The user asks ``refund ORD-1 20`` or ``status ORD-2``. The model looks the order up, then (for
a refund) refunds it, and (with ``notify=True``, version 2's model) emails the customer; a
failed lookup ends with an apology. Deterministic: the same conversation gives the same answer.
"""

from __future__ import annotations

import json
from typing import Any

from agentdeck.core.trace.model_call import ModelResponse, ToolCall


class ScriptedModel:
    def __init__(self, *, notify: bool = False) -> None:
        self.notify = notify
        self.calls = 0

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        self.calls += 1
        words = str(messages[1]["content"]).split()
        intent, order_id = words[0], words[1]
        done = {m["name"]: m for m in messages if m.get("role") == "tool"}
        step = len([m for m in messages if m.get("role") == "assistant"])

        def call(name: str, **args: Any) -> ModelResponse:
            return ModelResponse.assistant(tool_calls=[ToolCall(f"call_{step}", name, args)],
                                           model="scripted-1")  # fmt: skip

        if "lookup_order" not in done:
            return call("lookup_order", order_id=order_id)
        found = json.loads(done["lookup_order"]["content"])
        if "error" in found:
            return ModelResponse.assistant(f"Sorry, {found['error']}", model="scripted-1")
        if intent == "refund" and "refund" not in done:
            return call("refund", order_id=order_id, amount=float(words[2]))
        if intent == "refund" and self.notify and "notify" not in done:
            return call("notify", to=found["email"], text=f"Refunded {words[2]}")
        return ModelResponse.assistant(f"Done: {intent} {order_id}", model="scripted-1")
