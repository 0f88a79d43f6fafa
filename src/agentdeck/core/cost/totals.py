"""Totals of tokens and cost: per group of runs (a store query's rows), and a run's spend so
far (what the SDK keeps per run, in process, for budget rules)."""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.cost.price import SpanCost

__all__ = ["COST_GROUPS", "CostTotal", "RunBudget"]

COST_GROUPS = ("agent", "version", "session", "env", "day")
"""What cost totals can be grouped by: agent name, agent version (``name@N``), session, env,
and day (UTC, of the run's start)."""


@dataclass(frozen=True, slots=True)
class CostTotal:
    """Totals over the runs of one group. ``cost_usd`` sums the priced calls (``None`` when
    no call of the group was priced); ``unpriced_calls`` counts calls whose model has no
    price, so a total that leaves some out says so."""

    key: str | None
    runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float | None
    unpriced_calls: int
    max_cost_usd: float | None = None  # the costliest run of the group

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def mean_cost_usd(self) -> float | None:
        return None if self.cost_usd is None or not self.runs else self.cost_usd / self.runs


@dataclass(frozen=True, slots=True)
class RunBudget:
    """A run's spend so far: what policy rules read as ``run.cost_usd`` and ``run.tokens``.
    ``cost_usd`` sums the priced calls; an unpriced call adds its tokens and counts in
    ``unpriced_calls`` (a budget rule may deny on it: its cost is unknown)."""

    cost_usd: float = 0.0
    tokens: int = 0
    unpriced_calls: int = 0

    def plus(self, cost: SpanCost) -> RunBudget:
        return RunBudget(
            cost_usd=self.cost_usd + (cost.usd or 0.0),
            tokens=self.tokens + cost.input_tokens + cost.output_tokens,
            unpriced_calls=self.unpriced_calls + (1 if cost.usd is None else 0),
        )
