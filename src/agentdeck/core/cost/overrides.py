"""The user's price overrides: a YAML document that adds models or replaces their prices.

    prices:
      my-finetune:          # the model id as spans report it (case-insensitive)
        input: 0.5          # USD per million input tokens
        output: 1.5         # USD per million output tokens
        cache_read: 0.05    # optional: USD per million cached input tokens
        reasoning: 1.5      # optional: USD per million reasoning tokens
        provider: acme      # optional: the provider, shown with the price

Anything else (an unknown key, a negative or non-numeric price, a missing ``input`` or
``output``) is a :class:`~agentdeck.core.errors.SpecError` naming the source and the field.
"""

from __future__ import annotations

import math
from typing import Any

from agentdeck.core.cost.price import ModelPrice, Rate
from agentdeck.core.errors import SpecError

__all__ = ["parse_overrides"]

_RATES = ("input", "output", "cache_read", "reasoning")
_KEYS = frozenset((*_RATES, "provider"))


def _rate(value: Any, source: str, field: str) -> Rate:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SpecError(source, field, f"expected a number (USD per million tokens), got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise SpecError(source, field, f"expected a finite price >= 0, got {value!r}")
    return Rate(float(value))


def _model_price(model: str, body: Any, source: str) -> ModelPrice:
    where = f"prices.{model}"
    if not isinstance(body, dict):
        raise SpecError(source, where, "expected a mapping of input, output, ... prices")
    for key in body:
        if key not in _KEYS:
            raise SpecError(
                source,
                f"{where}.{key}",
                f"unknown key (expected one of {', '.join(sorted(_KEYS))})",
            )
    for key in ("input", "output"):
        if key not in body:
            raise SpecError(source, f"{where}.{key}", "missing (USD per million tokens)")
    rates = {k: _rate(body[k], source, f"{where}.{k}") for k in _RATES if k in body}
    provider = body.get("provider")
    if provider is not None and not isinstance(provider, str):
        raise SpecError(source, f"{where}.provider", "expected a string")
    return ModelPrice(
        model=model,
        input=rates["input"],
        output=rates["output"],
        cache_read=rates.get("cache_read"),
        reasoning=rates.get("reasoning"),
        provider=provider,
        source=f"overrides ({source})",
    )


def parse_overrides(text: str, source: str) -> dict[str, ModelPrice]:
    """The prices of an overrides document by lower-cased model id (module docstring)."""
    from agentdeck.core.yaml_bounded import parse_yaml_text  # (YAML: ~25 ms, when parsing)

    doc = parse_yaml_text(text, source)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise SpecError(source, None, "expected a mapping with a 'prices' key")
    for key in doc:
        if key != "prices":
            raise SpecError(source, str(key), "unknown key (expected 'prices')")
    prices = doc.get("prices") or {}
    if not isinstance(prices, dict):
        raise SpecError(source, "prices", "expected a mapping of model id to prices")
    out: dict[str, ModelPrice] = {}
    for model, body in prices.items():
        if not isinstance(model, str) or not model.strip():
            raise SpecError(source, f"prices.{model}", "a model id must be a non-empty string")
        out[model.strip().lower()] = _model_price(model.strip(), body, source)
    return out
