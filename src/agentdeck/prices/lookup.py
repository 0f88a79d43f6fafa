"""Price sources (:class:`~agentdeck.core.cost.PriceSource`): ``genai-prices``, a static table
(the overrides file, or tests), and the two layered."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from agentdeck.core.cost import ModelPrice, Rate, parse_overrides
from agentdeck.core.errors import InputError

__all__ = [
    "GenaiPrices",
    "LayeredPrices",
    "StaticPrices",
    "default_prices",
    "load_prices",
    "reset_default_prices",
]

_DAY_NS = 86_400 * 10**9


class StaticPrices:
    """Prices by model id (case-insensitive), the same at any time."""

    def __init__(self, prices: Mapping[str, ModelPrice]) -> None:
        self._prices = {k.lower(): v for k, v in prices.items()}

    def price(
        self, model: str, provider: str | None = None, at_ns: int | None = None
    ) -> ModelPrice | None:
        return self._prices.get(model.lower())


def _rate(value: Any) -> Rate | None:
    """A ``genai-prices`` per-Mtok price (a Decimal, or tiered by input tokens) as a Rate."""
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return Rate(float(value))
    base = getattr(value, "base", None)
    tiers = getattr(value, "tiers", None) or ()
    if base is None:
        return None
    return Rate(float(base), tuple((int(t.start), float(t.price)) for t in tiers))


class GenaiPrices:
    """Prices from ``genai-prices`` as of the call's day (its table keeps providers' price
    changes), looked up once per (model, provider, day) and cached; unknown models are cached
    as unknown too. Thread-safe."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str | None, int], ModelPrice | None] = {}
        self._lock = threading.Lock()
        self._snapshot: Any = None

    def _lookup(self, model: str, provider: str | None, day: int) -> ModelPrice | None:
        if self._snapshot is None:
            from genai_prices import data_snapshot

            self._snapshot = data_snapshot.get_snapshot()
        when = datetime.fromtimestamp(day * 86_400, tz=UTC)
        try:
            prov, info = self._snapshot.find_provider_model(model, None, provider, None)
        except LookupError:
            if provider is None:
                return None
            try:  # a provider name genai-prices does not know: match by model alone
                prov, info = self._snapshot.find_provider_model(model, None, None, None)
            except LookupError:
                return None
        mp = info.get_prices(when)
        inp, out = _rate(getattr(mp, "input_mtok", None)), _rate(getattr(mp, "output_mtok", None))
        if inp is None or out is None:
            return None
        return ModelPrice(
            model=info.id,
            input=inp,
            output=out,
            cache_read=_rate(getattr(mp, "cache_read_mtok", None)),
            provider=prov.id,
            source="genai-prices",
        )

    def price(
        self, model: str, provider: str | None = None, at_ns: int | None = None
    ) -> ModelPrice | None:
        day = (at_ns if at_ns is not None else datetime.now(UTC).timestamp() * 1e9) // _DAY_NS
        key = (model.lower(), provider.lower() if provider else None, int(day))
        found = self._cache.get(key, self)
        if found is not self:
            return found  # type: ignore[return-value]
        with self._lock:
            price = self._lookup(key[0], key[1], key[2])
            if len(self._cache) > 10_000:  # bounded: one entry per model and day
                self._cache.clear()
            self._cache[key] = price
        return price


class LayeredPrices:
    """The first source that knows the model."""

    def __init__(self, *sources: Any) -> None:
        self.sources = sources

    def price(
        self, model: str, provider: str | None = None, at_ns: int | None = None
    ) -> ModelPrice | None:
        for source in self.sources:
            found = source.price(model, provider, at_ns)
            if found is not None:
                return found
        return None


def load_prices(overrides: Path | None) -> LayeredPrices:
    """``genai-prices`` behind the overrides file, if any; a file that cannot be read or
    parsed raises an :class:`InputError` naming it (and the field)."""
    if overrides is None:
        return LayeredPrices(GenaiPrices())
    try:
        text = overrides.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{overrides}: cannot read the prices file: {exc}") from None
    return LayeredPrices(StaticPrices(parse_overrides(text, str(overrides))), GenaiPrices())


_default: LayeredPrices | None = None
_default_lock = threading.Lock()


def default_prices() -> LayeredPrices:
    """The process's price source: ``genai-prices`` behind ``AGENTDECK_PRICES_FILE``."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                from agentdeck.settings.env import CostEnv, read

                _default = load_prices(read(CostEnv).prices_file)
    return _default


def reset_default_prices() -> None:
    """Forget the process's price source (the settings changed; tests)."""
    global _default
    _default = None
