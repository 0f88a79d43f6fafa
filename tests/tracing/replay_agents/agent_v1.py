"""Version 1 of the shop agent. ``LOWERCASE_IDS`` and ``EXTRA_SYSTEM`` simulate code changes
made after a run was recorded (the tests flip them)."""

from __future__ import annotations

from typing import Any

from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model_call import ModelClient

from .loop import agent_loop
from .scripted import ScriptedModel

LOWERCASE_IDS = False  # a "bug fix" that changes the args the agent sends
EXTRA_SYSTEM = ""  # a prompt tweak that changes the context window
SYSTEM = "You are the shop assistant."


def _transform(name: str, args: dict[str, Any]) -> dict[str, Any]:
    if LOWERCASE_IDS and "order_id" in args:
        return {**args, "order_id": str(args["order_id"]).lower()}
    return args


def run_agent(input: str, *, model: ModelClient) -> str:
    return agent_loop(input, model, tools=("lookup_order", "refund"),
                      system=SYSTEM + EXTRA_SYSTEM, transform_args=_transform)  # fmt: skip


def model_client(spec: AgentSpec) -> ModelClient:
    return ScriptedModel()
