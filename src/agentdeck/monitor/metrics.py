"""Prometheus metrics of monitoring: one registry the server mounts at ``/metrics``.

Series (all labelled by agent; counters are per process, as Prometheus expects):

- ``agentdeck_runs_total{agent, env, status}``: runs checked;
- ``agentdeck_tool_calls_total{agent, tool, outcome}``: outcome ``ok``, ``error`` or
  ``invalid_args``;
- ``agentdeck_policy_decisions_total{agent, effect}``;
- ``agentdeck_findings_total{agent, check, severity}``;
- ``agentdeck_drift_score{agent, env, metric}``: the latest window check's score
  (effect / minimum effect) per compared metric; ``agentdeck_drift_items{agent, env}``: how
  many items drifted;
- ``agentdeck_alerts_fired_total{rule, severity}``;
- ``agentdeck_llm_cost_usd_total{agent, version, model}``: USD of the priced LLM calls of
  checked runs; ``agentdeck_llm_tokens_total{agent, version, model, kind}``: their tokens,
  kind ``input``, ``output``, ``cache_read`` (part of input) or ``reasoning`` (part of
  output); ``agentdeck_llm_unpriced_calls_total{agent, version, model}``: calls of a model with
  no known price (their cost is not in the cost counter).

The registry is a private :class:`prometheus_client.CollectorRegistry` (not the library's
global one), so importing agentdeck never changes a host application's metrics.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from agentdeck.core.behaviour.run_checks import Finding
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.cost import model_of
from agentdeck.core.trace.model import Run, Span
from agentdeck.monitor.drift import DriftReport

REGISTRY = CollectorRegistry(auto_describe=True)

RUNS = Counter(
    "agentdeck_runs", "Runs checked by monitoring.", ["agent", "env", "status"], registry=REGISTRY
)
TOOL_CALLS = Counter(
    "agentdeck_tool_calls",
    "Tool calls in checked runs, by tool and outcome (ok, error, invalid_args).",
    ["agent", "tool", "outcome"],
    registry=REGISTRY,
)
POLICY_DECISIONS = Counter(
    "agentdeck_policy_decisions",
    "Policy decisions in checked runs, by effect.",
    ["agent", "effect"],
    registry=REGISTRY,
)
FINDINGS = Counter(
    "agentdeck_findings",
    "Per-run check findings, by check and severity.",
    ["agent", "check", "severity"],
    registry=REGISTRY,
)
DRIFT_SCORE = Gauge(
    "agentdeck_drift_score",
    "Latest window check: effect size / minimum effect per compared metric.",
    ["agent", "env", "metric"],
    registry=REGISTRY,
)
DRIFT_ITEMS = Gauge(
    "agentdeck_drift_items",
    "Latest window check: number of drifted items.",
    ["agent", "env"],
    registry=REGISTRY,
)
ALERTS_FIRED = Counter(
    "agentdeck_alerts_fired",
    "Alerts fired, by rule and severity.",
    ["rule", "severity"],
    registry=REGISTRY,
)


LLM_COST = Counter(
    "agentdeck_llm_cost_usd",
    "USD of priced LLM calls in checked runs.",
    ["agent", "version", "model"],
    registry=REGISTRY,
)
LLM_TOKENS = Counter(
    "agentdeck_llm_tokens",
    "Tokens of LLM calls in checked runs, by kind (input, output, cache_read, reasoning).",
    ["agent", "version", "model", "kind"],
    registry=REGISTRY,
)
LLM_UNPRICED = Counter(
    "agentdeck_llm_unpriced_calls",
    "LLM calls of a model with no known price in checked runs.",
    ["agent", "version", "model"],
    registry=REGISTRY,
)


def _label(v: str | None) -> str:
    return v if v else "unknown"


def record_run(
    agent: str | None, env: str | None, view: RunView, findings: Iterable[Finding]
) -> None:
    """Count one checked run, its tool calls, policy decisions and findings."""
    a = _label(agent)
    RUNS.labels(a, _label(env), view.status.value).inc()
    for call in view.tool_calls:
        outcome = "error" if call.error else "invalid_args" if call.args_valid is False else "ok"
        TOOL_CALLS.labels(a, call.tool, outcome).inc()
    for p in view.policy:
        POLICY_DECISIONS.labels(a, p.effect).inc()
    for f in findings:
        FINDINGS.labels(a, f.check, f.severity.value).inc()


def record_llm(run: Run, spans: Iterable[Span]) -> None:
    """Count the tokens and cost of a checked run's LLM calls (priced by the store)."""
    a, v = _label(run.agent_name), str(run.agent_version or "unknown")
    for s in spans:
        u = s.usage
        if u is None:
            continue
        m = _label(model_of(s.attributes)[0])
        for kind, n in (("input", u.input_tokens), ("output", u.output_tokens),
                        ("cache_read", u.cache_read_tokens), ("reasoning", u.reasoning_tokens)):  # fmt: skip
            if n:
                LLM_TOKENS.labels(a, v, m, kind).inc(n)
        if s.cost_usd is None:
            LLM_UNPRICED.labels(a, v, m).inc()
        elif s.cost_usd > 0:
            LLM_COST.labels(a, v, m).inc(s.cost_usd)


def record_drift(agent: str, env: str | None, report: DriftReport) -> None:
    """Publish the scores of one window check."""
    e = _label(env)
    for item in report.items:
        DRIFT_SCORE.labels(agent, e, item.metric).set(item.score)
    DRIFT_ITEMS.labels(agent, e).set(len(report.drifted))


def record_alert(rule: str, severity: str) -> None:
    ALERTS_FIRED.labels(rule, severity).inc()


def metrics_text() -> bytes:
    """The Prometheus text exposition of the monitoring registry."""
    return generate_latest(REGISTRY)


CONTENT_TYPE = CONTENT_TYPE_LATEST


def metrics_app() -> Any:
    """An ASGI app serving :func:`metrics_text` (mount it at ``/metrics``)."""
    from prometheus_client import make_asgi_app

    return make_asgi_app(registry=REGISTRY)
