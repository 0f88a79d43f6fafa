"""Known answers of the canary, on SQLite and PostgreSQL, with the real SDK and store:

- a candidate whose refund tool fails 5 points more often (6 % against 1 %) is rolled back
  by the judgement before the 10 % arm has seen 500 runs, all traffic back on stable;
- an identical candidate walks the plan 10 -> 25 -> 50 and takes the env (a deployment whose
  id is the canary's);
- the runs record their arm and deployment, and every step is an audited event with its
  evidence.

The false-rollback rate over seeds is checked on the pure judgement (tests/core).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentdeck.core.deploy.canary import CanaryState, canary_config
from agentdeck.core.deploy.simulate import ArmModel, simulate
from agentdeck.store import RunQuery, SqlStore
from agentdeck.tracing.sdk import api as sdk
from canary_support import WORLD, drive, setup

PLAN = {
    "plan": [
        {"share": 10, "min_runs": 500, "min_minutes": 5},
        {"share": 25, "min_runs": 100, "min_minutes": 5},
        {"share": 50, "min_runs": 100, "min_minutes": 5},
        {"share": 100},
    ]
}


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def test_a_candidate_whose_refund_tool_fails_five_points_more_is_rolled_back_early(
    store: SqlStore,
) -> None:
    canaries = setup(store, {1: 0.01, 2: 0.06}, seed=11, canary=PLAN)
    # a fixed canary id makes the arms (a hash of it and the session) and so the run fixed:
    # the pure simulation below gives the spread over assignments
    started = canaries.start("bot@2", "production", 10, "alice", canary_id="c0ffee" + "0" * 26)
    out = drive(canaries, max_runs=6000, every=100)
    assert out.state is CanaryState.ROLLED_BACK, out
    assert out.candidate_runs < 500, out
    assert out.shares == [10]
    assert "tool_error" in out.reason or "outcome" in out.reason
    head = store.head("bot", "production")
    assert head is not None and head.agent_version == 1  # stable never left
    # after the rollback every run is on stable again (once the resolver's ttl has passed)
    assert WORLD.resolver is not None
    WORLD.resolver.clear()
    with sdk.run("bot@production", input={}, session_id="after") as run:
        assert run.agent is not None and run.agent.version == 1
    events = [e for e in store.audit_entries() if e.action.startswith("deployment.canary.")]
    assert [e.action for e in events] == ["deployment.canary.start", "deployment.canary.rollback"]
    evidence = events[-1].payload["judgement"]
    assert evidence["decision"] == "rollback" and evidence["breaches"]
    tool = next(m for m in evidence["metrics"] if m["metric"] == "tool_error")
    assert tool["candidate_mean"] > tool["stable_mean"]
    # the runs record their deployment and arm
    assert sdk.flush(10)
    runs = store.find_runs(RunQuery(agent_name="bot", limit=2000))
    arms = {(r.agent_version, r.canary_arm, r.deployment_id == started.id) for r in runs}
    assert (2, "candidate", True) in arms and (1, "stable", False) in arms


def test_an_identical_candidate_reaches_one_hundred_percent(store: SqlStore) -> None:
    plan = {"plan": [{"share": 10, "min_runs": 40, "min_minutes": 2},
                     {"share": 25, "min_runs": 40, "min_minutes": 2},
                     {"share": 50, "min_runs": 40, "min_minutes": 2}, {"share": 100}]}  # fmt: skip
    canaries = setup(store, {1: 0.03, 2: 0.03}, seed=5, canary=plan)
    started = canaries.start("bot@2", "production", 10, "alice")
    out = drive(canaries, max_runs=3000, every=100)
    assert out.state is CanaryState.COMPLETED, out
    assert out.shares == [10, 25, 50]
    head = store.head("bot", "production")
    assert head is not None and head.agent_version == 2 and head.id == started.id
    actions = [e.action for e in store.audit_entries() if e.subject == "bot@production"]
    assert actions[-4:] == [
        "deployment.canary.advance",
        "deployment.canary.advance",
        "deployment.canary.complete",
        "deployment.promote",
    ]


# -- the statistics alone (pure simulation, no store) ----------------------------------------

SIM_PLAN = {
    "plan": [
        {"share": 10, "min_runs": 200},
        {"share": 25, "min_runs": 200},
        {"share": 50, "min_runs": 200},
        {"share": 100},
    ],
    "alpha": 0.05,
}


def test_identical_versions_are_rolled_back_by_mistake_at_most_alpha_of_the_time() -> None:
    cfg = canary_config(SIM_PLAN)
    seeds = 60
    results = [simulate(cfg, ArmModel(), ArmModel(), seed) for seed in range(seeds)]
    false_rollbacks = sum(r.rolled_back for r in results)
    assert false_rollbacks / seeds <= cfg.alpha
    assert sum(r.steps_passed == 3 for r in results) == seeds - false_rollbacks


def test_the_simulated_refund_regression_is_caught_at_ten_percent() -> None:
    cfg = canary_config(
        {**SIM_PLAN, "plan": [{"share": 10, "min_runs": 2000}, {"share": 100}], "tune_runs": 500}
    )
    results = [
        simulate(cfg, ArmModel(tool_error=0.01), ArmModel(tool_error=0.06), seed)
        for seed in range(20)
    ]
    assert all(r.rolled_back and r.steps_passed == 0 for r in results)
    assert "tool_error" in results[0].breached
    assert sorted(r.candidate_runs for r in results)[len(results) // 2] < 500
