"""A scripted support agent for the canary tests: a model that always decides to refund, a
refund tool that fails with a probability set per agent version, sessions of one run each.

Runs go through the real SDK (resolution by ``bot@production`` through the registry, so the
canary split applies), into the real store; :func:`drive` judges the canary every ``every``
runs with a clock that advances one minute per judgement."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core.deploy.canary import CanaryState
from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.registry.canary import Canaries
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk

REFUND = {
    "name": "refund",
    "description": "Refund an order.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}


def spec(version_note: str) -> AgentSpec:
    return AgentSpec.from_dict(
        {
            "name": "bot",
            "model": {"provider": "scripted", "id": "scripted-1", "params": {}},
            "system_prompt": f"You refund orders. ({version_note})",
            "tools": [REFUND],
        }
    )


class Memo:
    """A resolver that keeps its answers until :meth:`clear` (what a resolver's ttl does, at
    moments the test controls: after each judgement)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.known: dict[str, ResolvedAgent] = {}

    def resolve(self, ref: str) -> ResolvedAgent:
        if ref not in self.known:
            self.known[ref] = self.registry.resolve(ref)
        return self.known[ref]

    def clear(self) -> None:
        self.known.clear()


@dataclass
class World:
    """Failure rates of the refund tool per agent version, and a seeded generator."""

    fail: dict[int, float]
    rng: random.Random
    calls: dict[int, int] = field(default_factory=dict)
    resolver: Memo | None = None


WORLD = World({}, random.Random(0))


@sdk.tool
def refund(order_id: str) -> dict[str, Any]:
    run = sdk.current_run()
    version = run.agent.version if run is not None and run.agent is not None else 0
    WORLD.calls[version] = WORLD.calls.get(version, 0) + 1
    if WORLD.rng.random() < WORLD.fail.get(version, 0.0):
        raise RuntimeError("payment provider: refund failed")
    return {"order_id": order_id, "status": "refunded"}


def scripted_turn(order: str) -> None:
    """One customer turn: the scripted model asks for the refund, the tool runs, it answers."""
    messages = [{"role": "user", "content": f"Please refund order {order}."}]
    with sdk.llm(messages=messages, model="scripted-1", tools=[REFUND]) as call:
        call.record(message={"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function",
             "function": {"name": "refund", "arguments": f'{{"order_id": "{order}"}}'}}]})  # fmt: skip
    ok = True
    try:
        refund(order_id=order)
    except RuntimeError:
        ok = False
    run = sdk.current_run()
    if run is not None:
        run.set_outcome(success=ok)


def setup(store: SqlStore, fail: dict[int, float], seed: int, canary: dict[str, Any]) -> Canaries:
    """bot@1 in production, bot@2 registered, the canary config set; the SDK started."""
    WORLD.fail, WORLD.rng, WORLD.calls = fail, random.Random(seed), {}
    reg = Registry(store)
    reg.register_agent(spec("v1"), "test")
    reg.register_agent(spec("v2"), "test")
    deps = Deployments(store, reg, gates=[])
    deps.promote("bot@1", "production", "test")
    deps.set_gate_config(GateConfig("production", {"canary": canary}), "test")
    WORLD.resolver = Memo(reg)
    sdk.init(
        sink=store, resolver=WORLD.resolver, env="production", schedule_delay=0.01, on_full="block"
    )
    return Canaries(store, deps)


@dataclass
class Outcome:
    state: CanaryState
    runs: int
    candidate_runs: int
    shares: list[float]
    reason: str


def drive(canaries: Canaries, max_runs: int, every: int = 100) -> Outcome:
    """Send runs (one session each) until the canary ends or ``max_runs``; judge every
    ``every`` runs, one simulated minute apart."""
    t0 = datetime.now(UTC)
    c = canaries.store.active_canary("bot", "production")
    assert c is not None
    shares = [c.share]
    reason = ""
    for i in range(max_runs):
        with sdk.run("bot@production", input={"order": i}, session_id=f"session-{i}"):
            scripted_turn(f"A-{i}")
        if (i + 1) % every == 0:
            assert sdk.flush(30)
            act = canaries.judge_and_act(c, t0 + timedelta(minutes=(i + 1) // every))
            c, reason = act.canary, act.judgement.reason
            assert WORLD.resolver is not None
            WORLD.resolver.clear()
            if act.action == "advance":
                shares.append(c.share)
            if not c.state.active:
                return Outcome(c.state, i + 1, act.judgement.candidate_runs, shares, reason)
    return Outcome(c.state, max_runs, -1, shares, reason)
