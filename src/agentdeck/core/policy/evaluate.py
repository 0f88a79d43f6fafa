"""Policy evaluation: compile a :class:`PolicySet` once, then decide tool calls.

This module is the policy evaluator's front: it gathers the parts, each in a module of its
own, and runs a policy's test cases.

- :mod:`agentdeck.core.policy.context`: :class:`ToolCallContext`, what a rule sees;
- :mod:`agentdeck.core.policy.variables`: the one way the variables of a call are built;
- :mod:`agentdeck.core.policy.program`: :class:`CompiledPolicy` (rules indexed by tool, CEL
  programs), :func:`compile_policy`, :class:`PolicyCache`;
- :mod:`agentdeck.core.policy.run`: :class:`RunEvaluator`, the per-run evaluator;
- :mod:`agentdeck.core.policy.decision`: :class:`Decision` and why.

Semantics (docs/policies.md has the full text): every rule that can match the call is
evaluated; the decision is the most severe effect among the matched rules (deny >
require_approval > warn > allow), with no match the policy's default effect; a rule whose
evaluation errors (or yields a non-boolean) counts as a deny (fail-closed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentdeck.core.policy.context import ToolCallContext
from agentdeck.core.policy.decision import Decision, RuleError, RuleMatch
from agentdeck.core.policy.program import (
    CompiledPolicy,
    CompiledRule,
    PolicyCache,
    check_policy,
    compile_policy,
)
from agentdeck.core.policy.run import RunEvaluator
from agentdeck.core.policy.spec import Effect, PolicySet

__all__ = [
    "CompiledPolicy",
    "CompiledRule",
    "Decision",
    "PolicyCache",
    "PolicyTestResult",
    "RuleError",
    "RuleMatch",
    "RunEvaluator",
    "ToolCallContext",
    "check_policy",
    "compile_policy",
    "run_policy_tests",
]


@dataclass(frozen=True)
class PolicyTestResult:
    """One test case's outcome; ``reason`` says what differed when it failed."""

    name: str
    index: int
    passed: bool
    expected: Effect
    expected_rules: tuple[str, ...] | None
    decision: Decision
    reason: str = ""


def run_policy_tests(
    policy: PolicySet | CompiledPolicy,
    source: str = "<policy>",
    call_defaults: Mapping[str, Any] | None = None,
) -> list[PolicyTestResult]:
    """Run the policy's test cases. A malformed ``call`` raises :class:`SpecError`
    (``tests[i].call...``); a wrong decision is a failed result. ``call_defaults`` fills the
    top-level keys a case's ``call`` leaves out (e.g. the ``agent`` under test)."""
    compiled = policy if isinstance(policy, CompiledPolicy) else compile_policy(policy, source)
    results: list[PolicyTestResult] = []
    for i, case in enumerate(compiled.policy.tests):
        call = case.call
        if call_defaults and isinstance(call, Mapping):
            call = {**call_defaults, **call}
        ctx = ToolCallContext.from_dict(call, compiled.source, f"tests[{i}].call.")
        decision = compiled.decide(ctx)
        problems: list[str] = []
        if decision.effect is not case.expect:
            problems.append(f"expected {case.expect.value}, got {decision.effect.value}")
        if case.expect_rules is not None:
            got = sorted(
                {m.rule_id for m in decision.matched} | {e.rule_id for e in decision.errors}
            )
            if got != sorted(set(case.expect_rules)):
                problems.append(f"expected rules {sorted(set(case.expect_rules))}, got {got}")
        if problems:  # an error is a deny: fine where a deny is expected, explained otherwise
            problems.extend(f"rule {e.rule_id!r} failed: {e.error}" for e in decision.errors)
        results.append(
            PolicyTestResult(
                name=case.name,
                index=i,
                passed=not problems,
                expected=case.expect,
                expected_rules=case.expect_rules,
                decision=decision,
                reason="; ".join(problems),
            )
        )
    return results
