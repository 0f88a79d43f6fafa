"""Where prices come from: the maintained ``genai-prices`` table (providers' prices over time)
with the user's overrides file (``AGENTDECK_PRICES_FILE``) in front of it.

The pricing itself is pure (:mod:`agentdeck.core.cost`); this package only looks prices up.
``genai-prices`` is imported on the first lookup, never at import time.
"""

from agentdeck.prices.lookup import (
    GenaiPrices,
    LayeredPrices,
    StaticPrices,
    default_prices,
    load_prices,
    reset_default_prices,
)

__all__ = [
    "GenaiPrices",
    "LayeredPrices",
    "StaticPrices",
    "default_prices",
    "load_prices",
    "reset_default_prices",
]
