"""The "policy-tests" gate: promotion needs the pinned policy's tests to pass for that exact
agent version; results are stored per (policy digest, agent digest). Both backends."""

from __future__ import annotations

from typing import Any

import pytest
from policy_support import example_agent, example_policy, policy_from

from agentdeck.composition import all_gates, deployments_service
from agentdeck.core.errors import GateBlocked
from agentdeck.policy.testing import PolicyTestsGate, record_policy_tests, run_tests_for_agent
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec


def _policy(expect: str) -> Any:
    return policy_from(
        {
            "name": "limits",
            "rules": [
                {"id": "cap", "when": "has(args.amount) && args.amount > 500", "effect": "deny"}
            ],
            "tests": [
                {
                    "name": "big refund",
                    "call": {"tool": "lookup", "args": {"amount": 900}},
                    "expect": expect,
                }
            ],
        }
    )


def test_the_gate_is_registered_for_promotions() -> None:
    assert any(isinstance(g, PolicyTestsGate) for g in all_gates())


def test_promotion_is_blocked_when_the_pinned_policys_tests_fail(store: SqlStore) -> None:
    reg = Registry(store)
    reg.register_policy(_policy("allow"), "test")  # the case expects the wrong effect
    reg.register_agent(make_spec("bot", policy="limits@1"), "test")
    with pytest.raises(GateBlocked, match=r"policy-tests.*1 of 1 tests of limits@1 fail"):
        deployments_service(store).promote("bot@1", "dev", "tester")
    assert store.head("bot", "dev") is None
    av = reg.get("bot@1")  # the gate ran the tests but, being a check, stored nothing
    assert store.get_policy_test_result(reg.get_policy("limits@1").digest, av.digest) is None
    record_policy_tests(store, "limits@1", run_tests_for_agent(_policy("allow"), "x", av), "ci")
    with pytest.raises(GateBlocked, match=r"1 of 1 tests of limits@1 fail for bot@1 \(ran "):
        deployments_service(store).promote("bot@1", "dev", "tester")


def test_promotion_passes_when_the_pinned_policys_tests_pass(store: SqlStore) -> None:
    reg = Registry(store)
    reg.register_policy(_policy("allow"), "test")
    reg.register_policy(_policy("deny"), "test")  # limits@2: a corrected test
    reg.register_agent(make_spec("bot", policy="limits@2"), "test")
    result = deployments_service(store).promote("bot@1", "dev", "tester")
    gate = next(g for g in result.gates if g.name == "policy-tests")
    assert gate.passed and "1 tests of limits@2 pass for bot@1 (ran now)" in gate.reason


def test_a_stored_result_is_per_agent_version_and_read_by_the_gate(store: SqlStore) -> None:
    reg = Registry(store)
    pv, _ = reg.register_policy(example_policy(), "test")
    av, _ = reg.register_agent(example_agent(), "test")
    tests = run_tests_for_agent(pv.policy, pv.ref, av)
    assert tests.passed and len(tests.results) == 16
    stored = record_policy_tests(store, pv.ref, tests, "ci")
    rec = store.get_policy_test_result(pv.digest, av.digest)
    assert rec is not None and rec == stored.record and rec.ran_by == "ci"
    assert store.get_policy_test_result(pv.digest, "sha256:" + "9" * 64) is None
    result = deployments_service(store).promote("support-bot@1", "dev", "tester")
    gate = next(g for g in result.gates if g.name == "policy-tests")
    assert gate.passed and "by ci" in gate.reason
    assert "policy.test" in [e.action for e in store.audit_entries()]


def test_an_agent_without_a_policy_passes_unless_the_env_requires_one(store: SqlStore) -> None:
    from agentdeck.core.deploy.model import GateConfig

    reg = Registry(store)
    reg.register_agent(make_spec("free"), "test")
    deps = deployments_service(store)
    deps.promote("free@1", "dev", "tester")
    deps.set_gate_config(GateConfig("staging", {"policy-tests": {"require_policy": True}}))
    with pytest.raises(GateBlocked, match="pins no policy"):
        deps.promote("free@1", "staging", "tester")
