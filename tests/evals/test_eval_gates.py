"""The eval gate reads the newest result of the candidate's exact digest against the env's
thresholds; the replay gate replays the candidate on recent production runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest_helpers import EXAMPLE, SUITE

from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.errors import GateBlocked
from agentdeck.evals.gates import EvalGate, ReplayGate, eval_thresholds
from agentdeck.evals.runner import EvalService, load_suite
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import PreviousEnvGate
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.replay.entrypoint import run_entrypoint
from agentdeck.tracing.sdk import api as sdk


def _deployments(store: SqlStore, reg: Registry) -> Deployments:
    return Deployments(store, reg, [PreviousEnvGate(), EvalGate()])


def test_env_without_eval_settings_passes(store: SqlStore, recording: Registry) -> None:
    deps = _deployments(store, recording)
    result = deps.promote("support-bot@1", "dev", "tester")
    gate = next(g for g in result.gates if g.name == "eval")
    assert gate.passed and "no eval thresholds" in gate.reason


def test_eval_gate_blocks_without_a_result_then_passes_with_one(
    store: SqlStore, recording: Registry
) -> None:
    deps = _deployments(store, recording)
    deps.set_gate_config(GateConfig("staging", {"eval": {"min_pass_rate": 0.95}}), "tester")
    deps.promote("support-bot@1", "dev", "tester")
    with pytest.raises(GateBlocked) as info:
        deps.promote("support-bot@1", "staging", "tester")
    assert "no eval result" in str(
        info.value
    ) and "agentdeck eval SUITE --agent support-bot@1" in str(info.value)
    EvalService(store).run(load_suite(SUITE), "support-bot@1", actor="tester")
    ok = deps.promote("support-bot@1", "staging", "tester")
    assert next(g for g in ok.gates if g.name == "eval").reason.startswith(
        "support-bot-core: 10/10 passed"
    )


def test_eval_gate_blocks_a_digest_below_threshold_or_missing_a_must_pass(
    store: SqlStore, recording: Registry
) -> None:
    deps = _deployments(store, recording)
    EvalService(store).run(load_suite(SUITE), "support-bot@2", actor="tester")  # 9/10
    deps.set_gate_config(GateConfig("staging", {"eval": {"min_pass_rate": 0.95}}), "tester")
    deps.promote("support-bot@2", "dev", "tester")
    with pytest.raises(GateBlocked, match=r"9/10 passed \(90%\): pass rate 90% is below 95%"):
        deps.promote("support-bot@2", "staging", "tester")
    deps.set_gate_config(
        GateConfig(
            "staging", {"eval": {"min_pass_rate": 0.8, "must_pass": ["refund-small-damaged"]}}
        ),
        "tester",
    )
    with pytest.raises(GateBlocked, match="must-pass case 'refund-small-damaged' failed"):
        deps.promote("support-bot@2", "staging", "tester")
    deps.set_gate_config(
        GateConfig("staging", {"eval": {"min_pass_rate": 0.8, "must_pass": ["lookup-outage"]}}),
        "tester",
    )
    assert deps.promote("support-bot@2", "staging", "tester").deployment.env == "staging"


def test_results_of_another_digest_do_not_count(store: SqlStore, recording: Registry) -> None:
    EvalService(store).run(load_suite(SUITE), "support-bot@1", actor="tester")
    deps = _deployments(store, recording)
    deps.set_gate_config(GateConfig("staging", {"eval": {"min_pass_rate": 0.5}}), "tester")
    deps.promote("support-bot@2", "dev", "tester")
    with pytest.raises(GateBlocked, match="no eval result of any suite for support-bot@2"):
        deps.promote("support-bot@2", "staging", "tester")


def test_bad_eval_settings_are_named() -> None:
    with pytest.raises(ValueError, match="min_pass_rate"):
        eval_thresholds({"min_pass_rate": 2})
    with pytest.raises(ValueError, match="must_pass"):
        eval_thresholds({"must_pass": [1]})


def _production_traffic(store: SqlStore, reg: Registry, n: int) -> None:
    deps = Deployments(store, reg, [])
    for env in ("dev", "staging", "production"):
        deps.promote("support-bot@1", env, "tester")
    agent = reg.resolve("support-bot@production")
    messages = [
        "Hi, the mug from ORD-1000 is damaged. I'd like a refund of 30 EUR. My email is omar.kim@example.com",
        "Where is my order ORD-1001?",
        "How many days do I have to return an item?",
    ]
    for i in range(n):
        run_entrypoint(agent, messages[i % len(messages)], paths=[EXAMPLE])
    sdk.flush()


def test_replay_gate_compares_the_candidate_with_recent_production_runs(
    store: SqlStore, recording: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(EXAMPLE)
    _production_traffic(store, recording, 6)
    deps = Deployments(store, recording, [ReplayGate()])
    settings = {"replay": {"min_agreement": 1.0, "runs": 6, "paths": [str(EXAMPLE)]}}
    deps.set_gate_config(GateConfig("staging", settings), "tester")
    same = deps.check_gates(recording.get("support-bot@1"), "staging")[0]
    assert same.passed, same.reason
    assert "agreed with 6/6 recorded production runs (100%" in same.reason
    other = deps.check_gates(recording.get("support-bot@2"), "staging")[0]
    assert not other.passed
    # v2 offers store credit on the refund runs: those disagree, and are listed.
    assert "agreed with 4/6" in other.reason and "disagreements:" in other.reason
    assert (
        "recorded lookup_order -> verify_identity -> issue_refund -> send_email; candidate lookup_order"
        in other.reason
    )


def test_replay_gate_is_off_without_a_threshold_and_passes_with_nothing_to_replay(
    store: SqlStore, recording: Registry, tmp_path: Path
) -> None:
    deps = Deployments(store, recording, [ReplayGate()])
    off = deps.check_gates(recording.get("support-bot@2"), "staging")[0]
    assert off.passed and "no replay agreement threshold" in off.reason
    deps.set_gate_config(GateConfig("staging", {"replay": {"min_agreement": 0.9}}), "tester")
    empty = deps.check_gates(recording.get("support-bot@2"), "staging")[0]
    assert empty.passed and "no recorded production runs" in empty.reason
