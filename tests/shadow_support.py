"""Shared by the shadow tests: the example support-bot deployed in production with a shadow
config, production refund traffic through the real SDK, and the canary loop at a fixed time."""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from typing import Any

from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.monitor.alert_sinks import InMemoryAlertSink
from agentdeck.registry.canary import Canaries
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec
from agentdeck.server.canary_loop import CanaryLoop
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import EXAMPLE_V1, EXAMPLES, seed_policy

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from support_bot import shop
from support_bot.agent import run_agent
from support_bot.scripted import ScriptedModel
from support_bot.traffic import DELIVERED

SHADOW = {
    "min_runs_per_arm": 10,
    "plan": [{"share": 10, "min_runs": 20}, {"share": 50, "min_runs": 50}, {"share": 100}],
    "guardrails": {"latency": {"margin": 1.0}},
    "shadow": {"sample": 100, "max_per_pass": 30, "live_tools": ["lookup_order"]},
}


def variant(base: AgentSpec, **changes: Any) -> AgentSpec:
    return AgentSpec.from_dict({**base.to_dict(), **changes})


def setup(
    store: SqlStore, candidate: AgentSpec, *, policy: bool = True
) -> tuple[Canaries, Registry]:
    if policy:
        seed_policy(store)
    reg = Registry(store)
    v1 = load_agent_spec(EXAMPLE_V1)
    reg.register_agent(v1, "test")
    reg.register_agent(candidate, "test")
    deps = Deployments(store, reg, gates=[])
    deps.promote("support-bot@1", "production", "test")
    deps.set_gate_config(GateConfig("production", {"canary": SHADOW}), "test")
    sdk.init(sink=store, resolver=reg, env="production", schedule_delay=0.01, on_full="block")
    return Canaries(store, deps), reg


def traffic(n: int, seed: int) -> None:
    """``n`` production refund requests of one run each, answered by support-bot@production."""
    rng = random.Random(seed)
    for i in range(n):
        order = rng.choice(DELIVERED)
        o = shop.order(order)
        assert o is not None
        msg = (f"Hi, the mug from {order} arrived broken. I'd like a refund of "
               f"{min(20, int(o.amount))} EUR. My email is {o.email}")  # fmt: skip
        with sdk.run("support-bot@production", input=msg, session_id=f"s{seed}-{i}") as run:
            assert run.agent is not None
            model = sdk.recorded_model(ScriptedModel(run.agent.spec))
            run.set_output(run_agent(msg, model=model))
    assert sdk.flush(30)


def loop(canaries: Canaries, minutes: int) -> tuple[CanaryLoop, InMemoryAlertSink]:
    sink = InMemoryAlertSink()
    c = canaries.store.active_canaries()[0]
    loop = CanaryLoop(canaries, interval=3600, sinks={"memory": sink},
                      clock=lambda: c.started_at + timedelta(minutes=minutes))  # fmt: skip
    return loop, sink


def identical() -> AgentSpec:
    """support-bot@1's spec with another ticket: another digest, the same behaviour."""
    v1 = load_agent_spec(EXAMPLE_V1)
    return variant(v1, metadata={**v1.metadata, "ticket": "SUP-200"})


def generous() -> AgentSpec:
    """support-bot@1 refunding 5 EUR more than asked (tests/shadow_bot.py)."""
    return variant(load_agent_spec(EXAMPLE_V1), entrypoint="shadow_bot:run_agent")
