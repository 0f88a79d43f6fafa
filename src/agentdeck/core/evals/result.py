"""Eval results: one suite run against one agent digest, case by case, and what gates read.

An :class:`EvalResult` is bound to the exact agent digest it ran (and to the suite's digest), so
a gate asking "did *this* artifact pass?" never reads a result of another build. Thresholds
(a minimum pass rate and cases that must pass) are checked by :func:`check_thresholds`; two
results of one suite are compared case by case by :func:`compare_results`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from agentdeck.core.types import JSON

if TYPE_CHECKING:  # the suite parser (and its matchers) is not needed to read a result
    from agentdeck.core.evals.suite import Thresholds


@dataclass(frozen=True)
class CaseResult:
    case_id: str
    passed: bool
    reasons: tuple[str, ...] = ()
    trace_id: str | None = None
    steps: int = 0
    duration_ms: float = 0.0
    output: JSON = None
    error: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        return {
            "case": self.case_id,
            "passed": self.passed,
            "reasons": list(self.reasons),
            "trace_id": self.trace_id,
            "steps": self.steps,
            "duration_ms": round(self.duration_ms, 3),
            "output": self.output,
            "error": self.error,
        }


@dataclass(frozen=True)
class EvalResult:
    id: str
    suite_name: str
    suite_digest: str
    agent_name: str
    agent_version: int
    agent_digest: str
    created_at: datetime
    created_by: str
    cases: tuple[CaseResult, ...]
    duration_ms: float = 0.0

    @property
    def agent_ref(self) -> str:
        return f"{self.agent_name}@{self.agent_version}"

    @property
    def total(self) -> int:
        return len(self.cases)

    @property
    def passed(self) -> int:
        return sum(1 for c in self.cases if c.passed)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.cases else 0.0

    def case(self, case_id: str) -> CaseResult | None:
        return next((c for c in self.cases if c.case_id == case_id), None)

    def to_dict(self) -> dict[str, JSON]:
        return {
            "id": self.id,
            "suite": self.suite_name,
            "suite_digest": self.suite_digest,
            "agent": self.agent_ref,
            "agent_digest": self.agent_digest,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "total": self.total,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "duration_ms": round(self.duration_ms, 1),
            "cases": [c.to_dict() for c in self.cases],
        }


@dataclass(frozen=True)
class ThresholdCheck:
    met: bool
    reasons: tuple[str, ...]
    summary: str


def check_thresholds(result: EvalResult, thresholds: Thresholds) -> ThresholdCheck:
    """Whether ``result`` meets ``thresholds``; reasons name each miss."""
    reasons: list[str] = []
    rate = result.pass_rate
    if rate + 1e-12 < thresholds.min_pass_rate:
        reasons.append(f"pass rate {rate:.0%} is below {thresholds.min_pass_rate:.0%}")
    for case_id in thresholds.must_pass:
        c = result.case(case_id)
        if c is None:
            reasons.append(f"must-pass case {case_id!r} is not in the result")
        elif not c.passed:
            reasons.append(f"must-pass case {case_id!r} failed")
    summary = f"{result.suite_name}: {result.passed}/{result.total} passed ({rate:.0%})"
    return ThresholdCheck(not reasons, tuple(reasons), summary)


@dataclass(frozen=True)
class CaseChange:
    """One case across two results: ``before``/``after`` are None where the case is missing."""

    case_id: str
    before: CaseResult | None
    after: CaseResult | None

    @property
    def kind(self) -> str:
        """``fixed``, ``broken``, ``still passing``, ``still failing``, ``added`` or ``removed``."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.before.passed and not self.after.passed:
            return "broken"
        if not self.before.passed and self.after.passed:
            return "fixed"
        return "still passing" if self.after.passed else "still failing"

    @property
    def changed(self) -> bool:
        if self.kind in ("broken", "fixed", "added", "removed"):
            return True
        assert self.before is not None and self.after is not None
        return self.before.steps != self.after.steps or self.before.reasons != self.after.reasons

    def to_dict(self) -> dict[str, JSON]:
        return {
            "case": self.case_id,
            "change": self.kind,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
        }


def compare_results(before: EvalResult, after: EvalResult) -> list[CaseChange]:
    """Case by case, in ``after``'s order, then cases only ``before`` has."""
    out = [CaseChange(c.case_id, before.case(c.case_id), c) for c in after.cases]
    out += [CaseChange(c.case_id, c, None) for c in before.cases if after.case(c.case_id) is None]
    return out


def summarize(changes: Sequence[CaseChange]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for ch in changes:
        counts[ch.kind] = counts.get(ch.kind, 0) + 1
    return counts
