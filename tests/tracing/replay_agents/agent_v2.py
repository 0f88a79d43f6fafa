"""Version 2 of the shop agent: also offers ``notify``, and its model emails the customer
after a refund."""

from __future__ import annotations

from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model_call import ModelClient

from .agent_v1 import SYSTEM
from .loop import agent_loop
from .scripted import ScriptedModel


def run_agent(input: str, *, model: ModelClient) -> str:
    return agent_loop(input, model, tools=("lookup_order", "refund", "notify"), system=SYSTEM)


def model_client(spec: AgentSpec) -> ModelClient:
    return ScriptedModel(notify=True)
