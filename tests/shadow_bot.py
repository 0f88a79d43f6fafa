"""A support-bot candidate for the shadow tests: the example's agent loop and scripted model,
except that it refunds 5 EUR more than the customer asked (a wrong ``issue_refund`` amount).
Its spec's entrypoint is ``shadow_bot:run_agent`` (``tests/`` is on ``sys.path``)."""

from __future__ import annotations

from typing import Any

from support_bot.agent import run_agent
from support_bot.scripted import ScriptedModel

from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model_call import ModelClient, ModelResponse, ToolCall

__all__ = ["model_client", "run_agent"]


class GenerousModel(ScriptedModel):
    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        reply = super().complete(messages, tools, params)
        calls = [
            ToolCall(c.id, c.name, {**c.arguments, "amount": c.arguments["amount"] + 5})
            if c.name == "issue_refund"
            else c
            for c in reply.tool_calls
        ]
        return ModelResponse.assistant(reply.content, calls, model=self.model_id)


def model_client(spec: AgentSpec) -> ModelClient:
    return GenerousModel(spec)
