"""Cost: USD per LLM call from token usage and a model's prices, and totals over runs.

Pure: prices come from a :class:`~agentdeck.core.cost.price.PriceSource` (the maintained
``genai-prices`` table and the user's YAML overrides live in :mod:`agentdeck.prices`).

The names below load from their modules on first use, so that importing one submodule (the
CLI's tables use :mod:`.format`) does not load the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdeck.core.cost.compare import CostChange, RunsCost
    from agentdeck.core.cost.format import UNPRICED, cost_text, usd
    from agentdeck.core.cost.overrides import parse_overrides
    from agentdeck.core.cost.price import (
        ModelPrice,
        PriceSource,
        Rate,
        SpanCost,
        call_cost,
        model_of,
        price_span,
    )
    from agentdeck.core.cost.totals import COST_GROUPS, CostTotal, RunBudget

_EXPORTS: dict[str, str] = {
    "COST_GROUPS": "totals",
    "UNPRICED": "format",
    "CostChange": "compare",
    "CostTotal": "totals",
    "ModelPrice": "price",
    "PriceSource": "price",
    "Rate": "price",
    "RunBudget": "totals",
    "RunsCost": "compare",
    "SpanCost": "price",
    "call_cost": "price",
    "cost_text": "format",
    "model_of": "price",
    "parse_overrides": "overrides",
    "price_span": "price",
    "usd": "format",
}

__all__ = [
    "COST_GROUPS",
    "UNPRICED",
    "CostChange",
    "CostTotal",
    "ModelPrice",
    "PriceSource",
    "Rate",
    "RunBudget",
    "RunsCost",
    "SpanCost",
    "call_cost",
    "cost_text",
    "model_of",
    "parse_overrides",
    "price_span",
    "usd",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
