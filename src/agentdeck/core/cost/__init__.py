"""Cost: USD per LLM call from token usage and a model's prices, and totals over runs.

Pure: prices come from a :class:`~agentdeck.core.cost.price.PriceSource` (the maintained
``genai-prices`` table and the user's YAML overrides live in :mod:`agentdeck.prices`).
"""

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
