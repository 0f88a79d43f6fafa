"""Pricing is pure and agrees with genai-prices: cached and reasoning tokens, tiers, the
overrides file's one-line errors, and unknown models priced as unknown (None), not as 0."""

from __future__ import annotations

import pytest

from agentdeck.core.cost import (
    ModelPrice,
    Rate,
    RunBudget,
    SpanCost,
    call_cost,
    cost_text,
    parse_overrides,
    price_span,
)
from agentdeck.core.errors import SpecError
from agentdeck.core.trace.model import Span, SpanKind, TokenUsage
from agentdeck.prices import GenaiPrices, LayeredPrices, StaticPrices


def test_cached_and_reasoning_tokens_are_priced_at_their_rates() -> None:
    p = ModelPrice("m", Rate(2.0), Rate(8.0), cache_read=Rate(0.5), reasoning=Rate(16.0))
    usage = TokenUsage(1_000_000, 1_000_000, cache_read_tokens=400_000, reasoning_tokens=250_000)
    assert call_cost(usage, p) == pytest.approx(0.6 * 2 + 0.4 * 0.5 + 0.75 * 8 + 0.25 * 16)
    # no cache or reasoning rate: the input and output rates
    assert call_cost(usage, ModelPrice("m", Rate(2.0), Rate(8.0))) == pytest.approx(2 + 8)


def test_a_tier_applies_above_its_input_threshold() -> None:
    p = ModelPrice("m", Rate(3.0, ((200_000, 6.0),)), Rate(15.0, ((200_000, 22.5),)))
    assert call_cost(TokenUsage(200_000, 0), p) == pytest.approx(0.6)
    assert call_cost(TokenUsage(200_001, 1000), p) == pytest.approx(200_001 * 6e-6 + 1000 * 22.5e-6)


@pytest.mark.parametrize(
    ("model", "usage"),
    [
        (
            "gpt-4o-2024-08-06",
            {"input_tokens": 12_345, "output_tokens": 678, "cache_read_tokens": 2_000},
        ),
        (
            "claude-sonnet-4-5",
            {"input_tokens": 250_000, "output_tokens": 3_000, "cache_read_tokens": 100_000},
        ),
        ("o3", {"input_tokens": 5_000, "output_tokens": 9_000}),
    ],
)
def test_genai_prices_models_cost_what_genai_prices_computes(
    model: str, usage: dict[str, int]
) -> None:
    import genai_prices

    ours = GenaiPrices().price(model)
    assert ours is not None and ours.source == "genai-prices"
    expected = genai_prices.calc_price(genai_prices.Usage(**usage), model).total_price
    tu = TokenUsage(
        usage["input_tokens"], usage["output_tokens"], usage.get("cache_read_tokens", 0)
    )
    assert call_cost(tu, ours) == pytest.approx(float(expected), rel=1e-9)


def test_an_unknown_model_costs_none_and_a_span_without_usage_is_not_priced() -> None:
    prices = LayeredPrices(StaticPrices({}), GenaiPrices())
    assert prices.price("no-such-model-anywhere") is None
    span = Span("t" * 32, "s" * 16, None, "chat", SpanKind.LLM, 0, 1,
                attributes={"llm.model": "no-such-model-anywhere"}, usage=TokenUsage(10, 5))  # fmt: skip
    cost = price_span(span, prices)
    assert cost is not None and cost.usd is None and cost.model == "no-such-model-anywhere"
    from dataclasses import replace

    assert price_span(replace(span, usage=None), prices) is None
    assert cost_text(None, 1) == "unpriced" and cost_text(0.5, 1) == "$0.50+?"


def test_the_answering_model_is_priced_before_the_requested_alias() -> None:
    prices = StaticPrices({"m-2025": ModelPrice("m-2025", Rate(1.0), Rate(1.0)),
                           "m": ModelPrice("m", Rate(100.0), Rate(100.0))})  # fmt: skip
    span = Span("t" * 32, "s" * 16, None, "chat", SpanKind.LLM, 0, 1, usage=TokenUsage(1_000_000, 0),
                attributes={"llm.model": "m", "llm.response_model": "m-2025"})  # fmt: skip
    cost = price_span(span, prices)
    assert cost is not None and cost.usd == pytest.approx(1.0)


def test_overrides_replace_and_add_prices() -> None:
    table = parse_overrides(
        "prices:\n  GPT-4o: {input: 1, output: 2}\n  my-ft: {input: 0.5, output: 1.5, cache_read: 0.05}\n",
        "prices.yaml",
    )
    layered = LayeredPrices(StaticPrices(table), GenaiPrices())
    found = layered.price("gpt-4o")
    assert found is not None and found.input.base == 1.0 and "overrides" in found.source
    assert layered.price("my-ft") is not None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("prices:\n  m: {input: 1, output: 2, inptu: 3}\n", "prices.m.inptu"),
        ("prices:\n  m: {input: 1}\n", "prices.m.output"),
        ("prices:\n  m: {input: -1, output: 2}\n", "prices.m.input"),
        ("prices:\n  m: {input: cheap, output: 2}\n", "prices.m.input"),
        ("prices:\n  m: {input: .inf, output: 2}\n", "prices.m.input"),
        ("prices:\n  m: 3\n", "prices.m"),
        ("prices: [a]\n", "prices"),
        ("models: {}\n", "models"),
    ],
)
def test_a_malformed_overrides_file_is_one_line_naming_the_field(text: str, field: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_overrides(text, "prices.yaml")
    assert info.value.field == field
    assert str(info.value).startswith(f"prices.yaml: {field}: ") and "\n" not in str(info.value)


def test_a_runs_budget_adds_priced_costs_and_counts_unpriced_calls() -> None:
    b = RunBudget().plus(SpanCost(0.5, "m", 100, 10)).plus(SpanCost(None, "x", 1, 1))
    assert (b.cost_usd, b.tokens, b.unpriced_calls) == (0.5, 112, 1)
