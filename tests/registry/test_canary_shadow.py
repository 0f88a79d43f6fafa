"""Shadow canaries (issue 20 point 3), on SQLite and PostgreSQL, with the example support-bot,
its scripted model and shop, the real SDK, store and canary loop:

- a shadow of an identical candidate earns its first real slice (the split then applies);
- a candidate whose refund call differs (5 EUR more) is rolled back from the shadow, and no
  user-facing run was ever served by it;
- in the shadow, tool calls are served from the stable runs' recordings: the shop's ledger
  does not move (only ``lookup_order``, marked live, runs for real).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdeck.core.deploy.canary import CanaryState
from agentdeck.core.trace.model import SpanKind
from agentdeck.store import RunQuery, SqlStore
from agentdeck.tracing.sdk import api as sdk
from shadow_support import generous, identical, setup, shop, traffic
from shadow_support import loop as loop_at


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def test_a_shadow_of_an_identical_candidate_earns_its_first_slice(store: SqlStore) -> None:
    canaries, reg = setup(store, identical())
    c = canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    assert reg.resolve("support-bot@production").canary is None  # a shadow serves no user
    traffic(30, seed=1)
    loop, sink = loop_at(canaries, 5)

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
    # live now: only real runs are judged (the shadow runs and pairs no longer count)
    assert canaries.evaluate(now).candidate_runs == 0
    traffic(40, seed=9)
    assert loop.shadow_once() == 0  # no longer a shadow
    live = canaries.evaluate(now)
    assert live.candidate_runs + live.stable_runs == 40 and live.candidate_runs > 0


def test_a_candidate_with_a_wrong_refund_amount_is_rolled_back_from_shadow(
    store: SqlStore,
) -> None:
    canaries, reg = setup(store, generous())
    c = canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    traffic(30, seed=2)
    refunds, emails = len(shop.LEDGER.refunds), len(shop.LEDGER.emails)
    loop, sink = loop_at(canaries, 5)

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
    canaries, _ = setup(store, identical())
    canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    traffic(5, seed=3)
    refunds = list(shop.LEDGER.refunds)
    assert refunds  # production did refund
    loop, _ = loop_at(canaries, 0)

    assert loop.shadow_once() == 5

    assert shop.LEDGER.refunds == refunds  # the shadow's five refunds came from the recordings
    reports = store.list_replay_reports(kind="shadow", limit=10)
    served = [call["served"] for r in reports for call in r.report["candidate"]]
    assert served.count("recording") >= 10  # verify_identity, issue_refund, ... per run
    assert set(served) <= {"recording", "live"} and served.count("live") == 5  # lookup_order
