"""How amounts print (CLI, UI): dollars with the precision small amounts need, and the
"unpriced" marker for calls whose model has no known price."""

from __future__ import annotations

__all__ = ["cost_text", "usd"]

UNPRICED = "unpriced"


def usd(value: float) -> str:
    """``$1.23``, ``$0.0042``, ``$0.000012``: two significant figures below a cent."""
    if value == 0:
        return "$0"
    if abs(value) >= 0.01:
        return f"${value:,.2f}"
    return f"${value:.2g}" if abs(value) >= 1e-4 else f"${value:.1e}"


def cost_text(cost_usd: float | None, unpriced_calls: int = 0) -> str:
    """A run's (or a group's) cost: ``unpriced`` when nothing was priced, a ``+?`` suffix when
    some calls were left out because their model has no known price."""
    if cost_usd is None:
        return UNPRICED if unpriced_calls else "-"
    return usd(cost_usd) + ("+?" if unpriced_calls else "")
