"""Online evaluation scores reach monitoring: a ``score:<evaluator>`` alert rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id, new_trace_id
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.monitor.alert_sinks import InMemoryAlertSink
from agentdeck.monitor.alerts import evaluate_alert_rules
from agentdeck.store import SqlStore

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _scored_run(
    store: SqlStore, at: datetime, score: float, evaluator: str = "email-recipient"
) -> None:
    tid, root = new_trace_id(), new_span_id()
    ns = int(at.timestamp() * 1e9)
    run = Run(
        tid,
        "bot",
        1,
        "sha256:aa",
        "production",
        "d1",
        ns,
        ns + 1000,
        SpanStatus.OK,
        root_span_id=root,
    )
    spans = [
        Span(tid, root, None, "bot", SpanKind.AGENT, ns, ns + 1000, seq=0, attributes={"agent.name": "bot"}),
        Span(
            tid, new_span_id(), root, f"eval {evaluator}", SpanKind.EVAL, ns + 900, ns + 950, seq=1,
            outputs={"reason": "r"},
            attributes={"eval.name": evaluator, "eval.score": score, "eval.passed": score >= 0.5},
        ),
    ]  # fmt: skip
    store.write_batch([run], spans)


RULE = {
    "rules": [
        {
            "name": "emails-failing",
            "metric": "score:email-recipient",
            "agent": "bot",
            "env": "production",
            "op": "<",
            "threshold": 0.8,
            "severity": "warning",
            "window": "1h",
        }
    ]
}


def test_a_low_mean_score_fires_the_score_rule(store: SqlStore) -> None:
    for i, value in enumerate([1.0, 0.0, 0.0, 1.0]):  # mean 0.5 < 0.8
        _scored_run(store, NOW - timedelta(minutes=10 + i), value)
    _scored_run(store, NOW - timedelta(minutes=5), 0.0, evaluator="completion")  # other evaluator
    _scored_run(store, NOW - timedelta(hours=3), 0.0)  # outside the window
    sink = InMemoryAlertSink()
    fired = evaluate_alert_rules(store, parse_alert_config(RULE), NOW, sinks={"m": sink})
    assert len(fired) == 1 and fired[0].value == 0.5
    assert "email-recipient mean score 0.500 over 4 scored runs" in fired[0].message


def test_a_good_mean_score_or_no_scores_fires_nothing(store: SqlStore) -> None:
    sink = InMemoryAlertSink()
    assert evaluate_alert_rules(store, parse_alert_config(RULE), NOW, sinks={"m": sink}) == []
    for i in range(3):
        _scored_run(store, NOW - timedelta(minutes=i + 1), 1.0)
    assert evaluate_alert_rules(store, parse_alert_config(RULE), NOW, sinks={"m": sink}) == []


def test_score_metric_needs_an_evaluator_name() -> None:
    import pytest

    from agentdeck.core.errors import SpecError

    bad = {"rules": [{**RULE["rules"][0], "metric": "score:"}]}
    with pytest.raises(SpecError, match=r"rules\[0\]\.metric"):
        parse_alert_config(bad, "alerts.yaml")
