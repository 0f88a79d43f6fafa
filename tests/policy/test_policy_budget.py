"""Budgets at the tool-call layer: policy rules read the run's LLM spend so far
(``run.cost_usd``, ``run.tokens``), which the SDK keeps per run from its LLM spans, priced in
process (docs/policies.md, "Budgets")."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_support import effects, lookup_order, policy_from, search_kb, spans, start_sdk

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.policy.context import ToolCallContext
from agentdeck.core.policy.evaluate import compile_policy
from agentdeck.core.trace.model import SpanKind, TokenUsage
from agentdeck.prices import reset_default_prices
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import make_spec

BUDGET = {
    "name": "budget",
    "rules": [
        {
            "id": "run-budget",
            "when": "run.cost_usd > 2.0",
            "effect": "deny",
            "message": "This run has spent more than $2 on its model.",
        },
        {"id": "token-budget", "when": "run.tokens > 5000000", "effect": "deny"},
    ],
}


@pytest.fixture(autouse=True)
def _prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A model priced at $1 per million input tokens and $4 per million output tokens."""
    f = tmp_path / "prices.yaml"
    f.write_text("prices:\n  scripted-model: {input: 1.0, output: 4.0}\n")
    monkeypatch.setenv("AGENTDECK_PRICES_FILE", str(f))
    reset_default_prices()
    yield
    sdk.shutdown(timeout=5)
    reset_default_prices()


def _agent(store: SqlStore) -> None:
    reg = Registry(store)
    pv, _ = reg.register_policy(policy_from(BUDGET), "test")
    reg.register_agent(make_spec("budget-bot", policy=f"budget@{pv.version}"), "test")


def _model_call(input_tokens: int, output_tokens: int) -> None:
    with sdk.llm(
        model="scripted-model", provider="acme", messages=[{"role": "user", "content": "q"}]
    ) as call:
        call.record(
            message={"role": "assistant", "content": "a"},
            model="scripted-model",
            usage=TokenUsage(input_tokens, output_tokens),
        )


def test_a_run_over_two_dollars_has_its_next_tool_call_denied_with_the_reason(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    _agent(sqlite_store)
    sink = start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="budget-bot@1") as run:
        _model_call(1_000_000, 100_000)  # $1.00 + $0.40
        lookup_order("ORD-1")  # $1.40 so far: allowed
        _model_call(500_000, 50_000)  # + $0.50 + $0.20 = $2.10
        with pytest.raises(PolicyDenied) as info:
            search_kb("refunds")
    assert info.value.rules == ["run-budget"]
    assert "more than $2" in info.value.message
    assert [e[0] for e in effects] == ["lookup_order"]  # the denied tool did not run
    decisions = spans(sink, run.trace_id, SpanKind.POLICY)
    assert [d.outputs["effect"] for d in decisions] == ["allow", "deny"]


def test_each_run_has_its_own_budget(tmp_path: Path, sqlite_store: SqlStore) -> None:
    _agent(sqlite_store)
    start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="budget-bot@1"):
        _model_call(3_000_000, 0)  # $3
        with pytest.raises(PolicyDenied):
            lookup_order("ORD-1")
    with sdk.run(agent="budget-bot@1"):
        lookup_order("ORD-2")  # a new run starts at $0
    assert [e[0] for e in effects] == ["lookup_order"]


def test_an_unpriced_model_counts_its_tokens_toward_a_token_budget(
    tmp_path: Path, sqlite_store: SqlStore
) -> None:
    _agent(sqlite_store)
    start_sdk(tmp_path, sqlite_store)
    with sdk.run(agent="budget-bot@1"):
        with sdk.llm(model="no-such-model", messages=[]) as call:
            call.record(
                message={"role": "assistant", "content": ""}, usage=TokenUsage(6_000_000, 0)
            )
        with pytest.raises(PolicyDenied) as info:
            lookup_order("ORD-1")
    assert info.value.rules == ["token-budget"]


def test_policy_tests_and_eval_accept_run_cost_and_tokens() -> None:
    compiled = compile_policy(policy_from(BUDGET), "budget.yaml")
    over = ToolCallContext.from_dict({"tool": "search_kb", "run": {"cost_usd": 2.5}})
    under = ToolCallContext.from_dict({"tool": "search_kb", "run": {"cost_usd": 1.5, "tokens": 10}})
    assert compiled.decide(over).effect.value == "deny"
    assert compiled.decide(under).effect.value == "allow"
    with pytest.raises(Exception, match=r"run\.cost_usd"):
        ToolCallContext.from_dict({"tool": "x", "run": {"cost_usd": "lots"}})
