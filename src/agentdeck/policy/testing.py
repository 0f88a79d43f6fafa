"""Policy tests bound to an agent version, and the deployment gate that reads them.

A policy's ``tests`` cases are run for an agent version with the agent (name, version,
digest) filled into every case that does not give one, and the outcome is stored per
(policy digest, agent digest). :class:`PolicyTestsGate` ("policy-tests") lets a promotion
through only when the tests of the policy the candidate *pins* pass for that exact agent
version. When nothing is stored yet the gate runs them (they are a pure function of the two
digests) without storing anything: a gate only checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.deploy.model import GateResult
from agentdeck.core.policy.evaluate import PolicyTestResult, run_policy_tests
from agentdeck.core.policy.records import PolicyTestRecord
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.artifacts import AgentVersion, AuditEvent, PolicyVersion
from agentdeck.registry.gates import GateContext
from agentdeck.registry.service import Registry
from agentdeck.store.protocol import PolicyStore, RegistryStore

__all__ = [
    "AgentPolicyTests",
    "PolicyTestsGate",
    "record_policy_tests",
    "run_tests_for_agent",
]


@dataclass(frozen=True)
class AgentPolicyTests:
    """A policy's test results for one agent version (``record`` once stored)."""

    policy_name: str
    policy_digest: str
    agent: AgentVersion | None
    results: tuple[PolicyTestResult, ...]
    record: PolicyTestRecord | None = None

    @property
    def failed(self) -> int:
        return sum(1 for r in self.results if not r.passed)

    @property
    def passed(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """As JSON data (``policy test --json`` and the API)."""
        return {
            "policy": self.policy_name,
            "policy_digest": self.policy_digest,
            "agent": self.agent.ref if self.agent else None,
            "agent_digest": self.agent.digest if self.agent else None,
            "passed": self.passed,
            "total": len(self.results),
            "failed": self.failed,
            "stored": self.record is not None,
            "cases": [
                {
                    "name": r.name,
                    "passed": r.passed,
                    "expected": r.expected.value,
                    "effect": r.decision.effect.value,
                    "rules": [m.rule_id for m in r.decision.matched],
                    "reason": r.reason,
                }
                for r in self.results
            ],
        }


def agent_defaults(agent: AgentVersion) -> dict[str, Any]:
    """The ``agent`` a test case sees when it names none: the version under test."""
    return {"agent": {"name": agent.name, "version": agent.version, "digest": agent.digest}}


def run_tests_for_agent(
    policy: PolicySet, source: str, agent: AgentVersion | None = None
) -> AgentPolicyTests:
    """Run ``policy``'s test cases (for ``agent`` when given). Malformed cases raise
    :class:`~agentdeck.core.errors.SpecError`."""
    results = run_policy_tests(policy, source, agent_defaults(agent) if agent else None)
    return AgentPolicyTests(policy.name, policy.digest, agent, tuple(results))


class PolicyTestStore(PolicyStore, RegistryStore, Protocol):
    """Where results go, and the agents' projects (an entry is in its agent's project's log)."""


def record_policy_tests(
    store: PolicyTestStore, policy_ref: str, tests: AgentPolicyTests, actor: str
) -> AgentPolicyTests:
    """Store the results under (policy digest, agent digest); audited as ``policy.test``."""
    record = _record(policy_ref, tests, actor)
    agent = tests.agent
    assert agent is not None
    store.put_policy_test_result(
        record,
        AuditEvent(
            actor,
            "policy.test",
            f"{policy_ref} x {agent.ref}",
            {
                "policy_digest": record.policy_digest,
                "agent_digest": record.agent_digest,
                "total": record.total,
                "failed": record.failed,
            },
            store.agent_project(agent.name) or DEFAULT_PROJECT,
        ),
    )
    return AgentPolicyTests(tests.policy_name, tests.policy_digest, agent, tests.results, record)


def _record(policy_ref: str, tests: AgentPolicyTests, actor: str) -> PolicyTestRecord:
    agent = tests.agent
    if agent is None:
        raise ValueError("policy test results are kept per agent version")
    return PolicyTestRecord(
        policy_digest=tests.policy_digest,
        agent_digest=agent.digest,
        policy_ref=policy_ref,
        agent_ref=agent.ref,
        total=len(tests.results),
        failed=tests.failed,
        results=tuple(
            {
                "name": r.name,
                "passed": r.passed,
                "effect": r.decision.effect.value,
                "expected": r.expected.value,
                "reason": r.reason,
            }
            for r in tests.results
        ),
        ran_at=datetime.now(UTC),
        ran_by=actor,
    )


class PolicyTestsGate:
    """Gate "policy-tests": the candidate's pinned policy's tests pass for this agent version.

    Settings (``env gates``), under ``"policy-tests"``: ``require_policy: true`` also blocks a
    candidate that pins no policy (by default it passes, saying so); ``min_tests: N`` blocks
    a policy with fewer than N test cases (default 0: a policy without tests passes).
    """

    name = "policy-tests"
    settings_keys = frozenset({"require_policy", "min_tests"})

    def check(self, ctx: GateContext) -> GateResult:
        settings = ctx.settings.get(self.name) or {}
        spec = ctx.candidate.spec
        if spec.policy is None:
            if settings.get("require_policy"):
                return GateResult(self.name, False, f"{ctx.candidate.ref} pins no policy")
            return GateResult(self.name, True, "no policy pinned: nothing to test")
        pv: PolicyVersion = Registry(ctx.store).get_policy(spec.policy)
        record = ctx.store.get_policy_test_result(pv.digest, ctx.candidate.digest)
        ran_now = record is None
        if record is None:
            record = self._run(pv, ctx.candidate)
        min_tests = int(settings.get("min_tests", 0))
        if record.total < min_tests:
            return GateResult(
                self.name, False, f"{pv.ref} has {record.total} test cases; {min_tests} required"
            )
        how = "ran now" if ran_now else f"ran {record.ran_at:%Y-%m-%d %H:%M} by {record.ran_by}"
        if record.failed:
            names = [r["name"] for r in record.results if not r.get("passed")]
            return GateResult(
                self.name,
                False,
                f"{record.failed} of {record.total} tests of {pv.ref} fail for "
                f"{ctx.candidate.ref} ({how}): {', '.join(names[:3])}",
            )
        return GateResult(
            self.name,
            True,
            f"{record.total} tests of {pv.ref} pass for {ctx.candidate.ref} ({how})",
        )

    def _run(self, pv: PolicyVersion, agent: AgentVersion) -> PolicyTestRecord:
        """Run the tests now; a gate only checks, so the result is not stored."""
        tests = run_tests_for_agent(pv.policy, pv.ref, agent)
        return _record(pv.ref, tests, f"gate:{self.name}")
