"""Shadow canaries (issue 20 point 3), on SQLite and PostgreSQL, with the example support-bot,
its scripted model and shop, the real SDK, store and canary loop:

- a shadow of an identical candidate earns its first real slice (the split then applies);
- a candidate whose refund call differs (5 EUR more) is rolled back from the shadow, and no
  user-facing run was ever served by it;
- in the shadow, tool calls are served from the stable runs' recordings: the shop's ledger
  does not move (only ``lookup_order``, marked live, runs for real).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from agentdeck.core.deploy.canary import CanaryState
from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model import SpanKind
from agentdeck.monitor.alert_sinks import InMemoryAlertSink
from agentdeck.registry.canary import Canaries
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec
from agentdeck.server.canary_loop import CanaryLoop
from agentdeck.store import RunQuery, SqlStore
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


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def _variant(base: AgentSpec, **changes: Any) -> AgentSpec:
    return AgentSpec.from_dict({**base.to_dict(), **changes})


def _setup(store: SqlStore, candidate: AgentSpec) -> tuple[Canaries, Registry]:
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


def _traffic(n: int, seed: int) -> None:
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


def _loop(canaries: Canaries, minutes: int) -> tuple[CanaryLoop, InMemoryAlertSink]:
    sink = InMemoryAlertSink()
    c = canaries.store.active_canaries()[0]
    loop = CanaryLoop(canaries, interval=3600, sinks={"memory": sink},
                      clock=lambda: c.started_at + timedelta(minutes=minutes))  # fmt: skip
    return loop, sink


def test_a_shadow_of_an_identical_candidate_earns_its_first_slice(store: SqlStore) -> None:
    v1 = load_agent_spec(EXAMPLE_V1)
    canaries, reg = _setup(store, _variant(v1, metadata={**v1.metadata, "ticket": "SUP-200"}))
    c = canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    assert reg.resolve("support-bot@production").canary is None  # a shadow serves no user
    _traffic(30, seed=1)
    loop, sink = _loop(canaries, 5)

    acts = loop.judge_once()

    assert loop.shadowed == 30
    assert [a.action for a in acts] == ["advance"], acts[0].judgement
    now = store.get_canary(c.id)
    assert now is not None and not now.shadow and now.state is CanaryState.RUNNING
    assert now.share == 10 and now.step == 0
    assert now.judgement["shadow"] == {"pairs": 30, "divergences": 0}
    assert now.judgement["candidate_runs"] == 30 and now.judgement["stable_runs"] == 30
    split = reg.resolve("support-bot@production").canary
    assert split is not None and split.share == 10 and split.canary_id == c.id
    audit = [e for e in store.audit_entries() if e.action.startswith("deployment.canary.")]
    assert [e.action for e in audit] == ["deployment.canary.start", "deployment.canary.advance"]
    assert audit[-1].payload["judgement"]["shadow"]["pairs"] == 30
    assert [a.rule for a in sink.sent] == ["canary.advance"]
    # the shadow runs are runs of the candidate, arm shadow, stamped with the stable run
    runs = store.find_runs(RunQuery(agent_name="support-bot", limit=200))
    shadows = [r for r in runs if r.canary_arm == "shadow"]
    assert len(shadows) == 30
    assert {(r.agent_version, r.deployment_id) for r in shadows} == {(2, c.id)}
    sources = {r.attributes["replay.of"] for r in shadows}
    assert sources == {r.trace_id for r in runs if r.agent_version == 1}
    reports = store.list_replay_reports(kind="shadow", limit=100)
    assert len(reports) == 30 and {r.outcome for r in reports} == {"agreed"}
    # a second pass shadows nothing twice
    assert loop.shadow_once() == 0


def test_a_candidate_with_a_wrong_refund_amount_is_rolled_back_from_shadow(
    store: SqlStore,
) -> None:
    v1 = load_agent_spec(EXAMPLE_V1)
    generous = _variant(v1, entrypoint="shadow_bot:run_agent")
    canaries, reg = _setup(store, generous)
    c = canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    _traffic(30, seed=2)
    refunds, emails = len(shop.LEDGER.refunds), len(shop.LEDGER.emails)
    loop, sink = _loop(canaries, 5)

    acts = loop.judge_once()

    assert [a.action for a in acts] == ["rollback"]
    now = store.get_canary(c.id)
    assert now is not None and now.state is CanaryState.ROLLED_BACK and now.share == 0
    assert "tool_error" in now.judgement["reason"]
    assert now.judgement["shadow"]["divergences"] == now.judgement["shadow"]["pairs"] > 0
    assert [a.rule for a in sink.sent] == ["canary.rollback"]
    # no user-facing run was served by the candidate: its only runs are shadow runs
    runs = store.find_runs(RunQuery(agent_name="support-bot", limit=200))
    assert {r.canary_arm for r in runs if r.agent_version == 2} == {"shadow"}
    assert all(r.canary_arm is None for r in runs if r.agent_version == 1)
    # the shop's refund function was not called by the shadow: its ledger did not move
    assert (len(shop.LEDGER.refunds), len(shop.LEDGER.emails)) == (refunds, emails)
    shadow = next(r for r in runs if r.canary_arm == "shadow")
    tools = {s.name: s for s in store.get_spans(shadow.trace_id) if s.kind is SpanKind.TOOL}
    assert "no recorded call" in (tools["issue_refund"].error or "")
    assert reg.resolve("support-bot@production").canary is None


def test_shadow_tool_calls_are_served_from_the_recordings(store: SqlStore) -> None:
    v1 = load_agent_spec(EXAMPLE_V1)
    canaries, _ = _setup(store, _variant(v1, metadata={**v1.metadata, "ticket": "SUP-201"}))
    canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    _traffic(5, seed=3)
    refunds = list(shop.LEDGER.refunds)
    assert refunds  # production did refund
    loop, _ = _loop(canaries, 0)

    assert loop.shadow_once() == 5

    assert shop.LEDGER.refunds == refunds  # the shadow's five refunds came from the recordings
    reports = store.list_replay_reports(kind="shadow", limit=10)
    served = [call["served"] for r in reports for call in r.report["candidate"]]
    assert served.count("recording") >= 10  # verify_identity, issue_refund, ... per run
    assert set(served) <= {"recording", "live"} and served.count("live") == 5  # lookup_order
