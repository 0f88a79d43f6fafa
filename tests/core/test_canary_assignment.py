"""Canary arms: a stable hash of the session (else user, else run), monotone in the share;
the canary section of an env's gate settings checked key by key."""

from __future__ import annotations

import hashlib

import pytest

from agentdeck.core.deploy.canary import Step, canary_config
from agentdeck.core.errors import SpecError
from agentdeck.core.spec.agent import AgentSpec, CanarySplit, ResolvedAgent
from agentdeck.core.spec.arms import CANDIDATE, STABLE, bucket, choose, in_candidate


def _agent(version: int) -> ResolvedAgent:
    spec = AgentSpec.from_dict(
        {
            "name": "bot",
            "model": {"provider": "openai", "id": "gpt-4o-2024-08-06"},
            "prompt": f"v{version}",
        }
    )
    return ResolvedAgent("bot", version, spec.digest, spec, "production", f"dep{version}")


def _split(share: float, key: str = "session") -> ResolvedAgent:
    stable, cand = _agent(1), _agent(2)
    return ResolvedAgent(
        stable.name, 1, stable.digest, stable.spec, "production", "dep1",
        CanarySplit("c" * 32, share, key, cand),
    )  # fmt: skip


def test_the_bucket_is_the_first_eight_bytes_of_sha256_mod_10000() -> None:
    want = int.from_bytes(hashlib.sha256(b"abc:session-1").digest()[:8], "big") % 10_000
    assert bucket("abc", "session-1") == want


def test_a_session_stays_on_its_arm_and_raising_the_share_only_moves_runs_to_the_candidate() -> (
    None
):
    keys = [f"s{i}" for i in range(20_000)]
    at10 = {k for k in keys if in_candidate("cid", k, 10)}
    at25 = {k for k in keys if in_candidate("cid", k, 25)}
    assert at10 <= at25
    assert abs(len(at10) / len(keys) - 0.10) < 0.01
    assert abs(len(at25) / len(keys) - 0.25) < 0.015
    agent = _split(10)
    for k in keys[:200]:
        arms = {choose(agent, k, None, f"run{i}").arm for i in range(3)}  # type: ignore[union-attr]
        assert len(arms) == 1


def test_the_candidate_arm_carries_the_canary_id_as_its_deployment() -> None:
    agent = _split(100 - 1e-9)
    choice = choose(agent, "s", None, "r")
    assert choice is not None and choice.arm == CANDIDATE
    assert choice.agent.version == 2 and choice.agent.deployment_id == "c" * 32
    assert choice.agent.env == "production" and choice.agent.canary is None
    low = choose(_split(0.001), "s", None, "r")
    assert low is not None and low.arm == STABLE and low.agent.deployment_id == "dep1"


def test_without_a_session_the_user_then_the_run_decides() -> None:
    agent = _split(50, key="session")
    by_user = choose(agent, None, "u1", "r1")
    assert by_user is not None and by_user.key_kind == "user"
    by_run = choose(agent, None, None, "r1")
    assert by_run is not None and by_run.key_kind == "run"
    assert choose(_agent(1), "s", None, "r") is None


def test_the_canary_config_defaults_and_its_checks() -> None:
    cfg = canary_config(None)
    assert [s.share for s in cfg.plan] == [10, 25, 50, 100]
    cfg = canary_config(
        {
            "plan": [{"share": 5, "min_runs": 50}, {"share": 100}],
            "guardrails": {"latency": False, "cost": {"margin": 0.01}},
        }
    )
    assert cfg.plan == (Step(5, 50, 0), Step(100, 0, 0))
    assert "latency" not in {g.metric for g in cfg.guardrails}
    assert canary_config(cfg.to_dict()) == cfg  # stored and read back the same
    with pytest.raises(SpecError, match="did you mean 'guardrails'"):
        canary_config({"guardrail": {}})
    with pytest.raises(SpecError, match=r"plan\[1\].share.*increase"):
        canary_config({"plan": [{"share": 50}, {"share": 25}]})
    with pytest.raises(SpecError, match="did you mean 'tool_error'"):
        canary_config({"guardrails": {"tool_errors": {}}})
    with pytest.raises(SpecError, match="alpha"):
        canary_config({"alpha": 2})
