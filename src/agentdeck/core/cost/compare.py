"""The cost change between two agent versions: mean cost per run of each (from its runs, or
from its eval runs), and by how much it moved."""

from __future__ import annotations

from dataclasses import dataclass

from agentdeck.core.cost.format import cost_text, usd

__all__ = ["CostChange", "RunsCost"]


@dataclass(frozen=True, slots=True)
class RunsCost:
    """What one version's runs cost: ``mean_cost_usd`` per run over the ``runs`` whose cost
    is known (``None``: none priced), their mean tokens, and unpriced calls left out."""

    ref: str
    runs: int
    mean_cost_usd: float | None
    mean_tokens: float | None
    unpriced_calls: int = 0

    @classmethod
    def of(
        cls, ref: str, costs: list[float | None], tokens: list[int], unpriced_calls: int = 0
    ) -> RunsCost:
        known = [c for c in costs if c is not None]
        return cls(
            ref=ref,
            runs=len(costs),
            mean_cost_usd=sum(known) / len(known) if known else None,
            mean_tokens=sum(tokens) / len(tokens) if tokens else None,
            unpriced_calls=unpriced_calls,
        )

    def text(self) -> str:
        if not self.runs:
            return "no runs"
        return f"{cost_text(self.mean_cost_usd, self.unpriced_calls)} per run ({self.runs} runs)"


@dataclass(frozen=True, slots=True)
class CostChange:
    before: RunsCost
    after: RunsCost

    @property
    def delta_usd(self) -> float | None:
        a, b = self.before.mean_cost_usd, self.after.mean_cost_usd
        return None if a is None or b is None else b - a

    @property
    def ratio(self) -> float | None:
        a, b = self.before.mean_cost_usd, self.after.mean_cost_usd
        return None if a is None or b is None or a == 0 else b / a

    def text(self) -> str:
        """``cost per run: $0.012 (40 runs) -> $0.018 (12 runs), +$0.006 (+50%)``."""
        line = f"cost per run: {self.before.text()} -> {self.after.text()}"
        d, r = self.delta_usd, self.ratio
        if d is not None:
            sign = "+" if d >= 0 else "-"
            line += f", {sign}{usd(abs(d))}"
            if r is not None:
                line += f" ({(r - 1) * 100:+.0f}%)"
        return line
