"""Alert rules on spend (``cost_usd``: the window's sum; ``run_cost_usd``: its costliest run),
and the Prometheus counters of LLM tokens and cost, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agentdeck.core.cost import ModelPrice, Rate
from agentdeck.core.trace.model import (
    Run,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.monitor import metrics
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.monitor.alert_sinks import InMemoryAlertSink
from agentdeck.monitor.alerts import evaluate_alert_rules
from agentdeck.monitor.checks import on_runs_stored
from agentdeck.prices import StaticPrices
from agentdeck.store import SqlStore

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
PRICES = StaticPrices({"m": ModelPrice("m", Rate(1.0), Rate(2.0))})  # $1 / $2 per Mtok


def _run(store: SqlStore, at: datetime, input_tokens: int, agent: str = "spender") -> str:
    tid, root = new_trace_id(), new_span_id()
    ns = int(at.timestamp() * 1e9)
    run = Run(
        tid,
        agent,
        3,
        "sha256:aa",
        "production",
        "d1",
        ns,
        ns + 1000,
        SpanStatus.OK,
        root_span_id=root,
    )
    spans = [
        Span(tid, root, None, agent, SpanKind.AGENT, ns, ns + 1000, seq=0),
        Span(tid, new_span_id(), root, "chat m", SpanKind.LLM, ns + 1, ns + 9, seq=1,
             attributes={"llm.model": "m"}, usage=TokenUsage(input_tokens, 500_000, cache_read_tokens=10)),
    ]  # fmt: skip
    store.write_batch([run], spans)
    return tid


def _rules(metric: str, threshold: float) -> dict[str, object]:
    return {
        "rules": [
            {
                "name": f"spend-{metric}",
                "metric": metric,
                "agent": "spender",
                "env": "production",
                "op": ">",
                "threshold": threshold,
                "severity": "warning",
                "window": "1h",
            }
        ]
    }


@pytest.fixture
def priced(store: SqlStore) -> SqlStore:
    store.prices = PRICES  # type: ignore[attr-defined]
    return store


def test_the_windows_spend_over_the_threshold_fires_naming_the_amount(priced: SqlStore) -> None:
    for minutes in (5, 10, 20):
        _run(priced, NOW - timedelta(minutes=minutes), 1_000_000)  # $1 + $1 each
    _run(priced, NOW - timedelta(hours=3), 50_000_000)  # outside the window
    sink = InMemoryAlertSink()
    fired = evaluate_alert_rules(
        priced, parse_alert_config(_rules("cost_usd", 5.0)), NOW, sinks={"m": sink}
    )
    assert len(fired) == 1 and fired[0].value == pytest.approx(6.0)
    assert "spent $6.00 over 3 runs" in fired[0].message
    calm = parse_alert_config(_rules("cost_usd", 10.0))
    assert evaluate_alert_rules(priced, calm, NOW, sinks={"m": sink}) == []


def test_one_run_over_the_per_run_threshold_fires(priced: SqlStore) -> None:
    _run(priced, NOW - timedelta(minutes=5), 1_000_000)  # $2
    _run(priced, NOW - timedelta(minutes=6), 4_000_000)  # $5
    sink = InMemoryAlertSink()
    fired = evaluate_alert_rules(
        priced, parse_alert_config(_rules("run_cost_usd", 3.0)), NOW, sinks={"m": sink}
    )
    assert len(fired) == 1 and fired[0].value == pytest.approx(5.0)
    assert "costliest run $5.00" in fired[0].message


def test_an_unknown_spend_metric_is_refused_naming_the_field() -> None:
    from agentdeck.core.errors import SpecError

    with pytest.raises(SpecError, match=r"rules\[0\]\.metric"):
        parse_alert_config(_rules("cost_eur", 1.0))


def _sample(name: str, **labels: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name, labels)
    return value or 0.0


def test_checked_runs_count_llm_tokens_and_cost_in_prometheus(priced: SqlStore) -> None:
    labels = {"agent": "spender", "version": "3", "model": "m"}
    cost0 = _sample("agentdeck_llm_cost_usd_total", **labels)
    tokens0 = _sample("agentdeck_llm_tokens_total", **labels, kind="input")
    cached0 = _sample("agentdeck_llm_tokens_total", **labels, kind="cache_read")
    tid = _run(priced, NOW, 1_000_000)
    on_runs_stored(priced, [tid])
    assert _sample("agentdeck_llm_cost_usd_total", **labels) - cost0 == pytest.approx(2.0, rel=1e-4)
    assert _sample("agentdeck_llm_tokens_total", **labels, kind="input") - tokens0 == 1_000_000
    assert _sample("agentdeck_llm_tokens_total", **labels, kind="cache_read") - cached0 == 10
    assert b"agentdeck_llm_cost_usd_total{" in metrics.metrics_text()
