"""A model's prices and the cost of one LLM call.

Token conventions (OpenTelemetry GenAI, OpenInference, and the SDK's integrations):
``input_tokens`` counts every input token, cached ones included; ``cache_read_tokens`` is the
part of them read from the provider's prompt cache; ``output_tokens`` counts every output
token, reasoning included; ``reasoning_tokens`` is the part of them spent reasoning. So a call
costs

    (input - cache_read) x input rate + cache_read x cache-read rate
    + (output - reasoning) x output rate + reasoning x reasoning rate

where a missing cache-read rate is the input rate and a missing reasoning rate the output
rate (providers bill reasoning as output). Rates are USD per million tokens; a rate may be
tiered by the call's input tokens (a long-context surcharge): the highest tier whose start the
call's input exceeds applies, as ``genai-prices`` computes it.

A call whose model has no known price costs ``None`` (unknown), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from agentdeck.core.trace.model import Span, TokenUsage
from agentdeck.core.types import JSON

__all__ = [
    "ModelPrice",
    "PriceSource",
    "Rate",
    "SpanCost",
    "call_cost",
    "model_of",
    "price_span",
]

_PER = 1_000_000


@dataclass(frozen=True, slots=True)
class Rate:
    """USD per million tokens: ``base``, or the price of the highest ``tiers`` entry
    ``(start, price)`` whose start the call's input tokens exceed."""

    base: float
    tiers: tuple[tuple[int, float], ...] = ()

    def at(self, input_tokens: int) -> float:
        if not self.tiers:
            return self.base
        for start, price in reversed(self.tiers):
            if input_tokens > start:
                return price
        return self.base


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """What one model costs. ``source`` says where the price came from (``genai-prices``
    with its provider and model id, or the overrides file)."""

    model: str
    input: Rate
    output: Rate
    cache_read: Rate | None = None
    reasoning: Rate | None = None
    provider: str | None = None
    source: str = ""


class PriceSource(Protocol):
    """Looks up a model's prices as of a time (prices change); ``None``: unknown model."""

    def price(
        self, model: str, provider: str | None = None, at_ns: int | None = None
    ) -> ModelPrice | None: ...


def call_cost(usage: TokenUsage, price: ModelPrice) -> float:
    """USD for one call with ``usage`` at ``price`` (module docstring)."""
    n_in = max(usage.input_tokens, 0)
    cached = min(max(usage.cache_read_tokens, 0), n_in)
    n_out = max(usage.output_tokens, 0)
    reasoning = min(max(usage.reasoning_tokens, 0), n_out)
    cache_rate = price.cache_read or price.input
    reasoning_rate = price.reasoning or price.output
    usd = (
        (n_in - cached) * price.input.at(n_in)
        + cached * cache_rate.at(n_in)
        + (n_out - reasoning) * price.output.at(n_in)
        + reasoning * reasoning_rate.at(n_in)
    )
    return usd / _PER


def _text(value: JSON) -> str | None:
    return value if isinstance(value, str) and value else None


def model_of(attributes: Mapping[str, JSON]) -> tuple[str | None, str | None]:
    """(model, provider) of an LLM span: the model that answered (``llm.response_model``, an
    exact version) before the one requested (``llm.model``)."""
    model = _text(attributes.get("llm.response_model")) or _text(attributes.get("llm.model"))
    return model, _text(attributes.get("llm.provider"))


@dataclass(frozen=True, slots=True)
class SpanCost:
    """The cost of one span with token usage: ``usd`` is ``None`` when its model is unpriced
    (``model`` says which, ``None`` if the span names none)."""

    usd: float | None
    model: str | None
    input_tokens: int
    output_tokens: int


def price_span(span: Span, prices: PriceSource) -> SpanCost | None:
    """The cost of ``span`` (``None``: it reports no token usage)."""
    usage = span.usage
    if usage is None:
        return None
    model, provider = model_of(span.attributes)
    price = prices.price(model, provider, span.start_ns) if model else None
    return SpanCost(
        usd=None if price is None else call_cost(usage, price),
        model=model,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
    )
