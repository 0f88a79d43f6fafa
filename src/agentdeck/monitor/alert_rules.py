"""Alert rules: the YAML file, validated into frozen values.

::

    sinks:                         # where alerts go (default: one log sink)
      - name: ops
        type: webhook              # log | webhook | slack
        url: http://127.0.0.1:9000/hooks/agentdeck
        timeout: 5                 # seconds (webhook, slack)
    rules:
      - name: unknown-tool         # unique
        check: unknown_tool        # a per-run check: counts its findings in the window
        min_severity: warning      # count findings at least this severe (default info)
        agent: support-bot         # optional for check rules: one alert per agent/env
        env: production            # optional
        threshold: 1               # fire when the value (op) threshold; default 1
        severity: critical         # info | warning | critical
        window: 1h                 # 90s, 15m, 1h, 7d, 2w
        cooldown: 30m              # no new alert for the rule+subject this long after one
        sinks: [ops]               # default: every sink
        auto_rollback: {env: production}   # critical only; off unless given
      - name: behaviour-drift
        metric: drift              # drift | drift:<metric> | score:<evaluator> | completion_rate | error_rate | runs | outcome_success_rate | outcome_score | cost_usd | run_cost_usd
        agent: support-bot         # required for metric rules
        env: production
        baseline: support-v1       # optional (default: the latest of the agent/env)
        op: ">="                   # >=, >, <=, < (default >=)
        threshold: 1.0
        severity: warning
        window: 1h

Every error names the file and the field (``rules[1].threshold``) and exits with code 2.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from agentdeck.core.behaviour.run_checks import Severity
from agentdeck.core.errors import InputError, SpecError
from agentdeck.core.spelling import unknown
from agentdeck.monitor.window import parse_duration
from agentdeck.registry.specfile import load_yaml

SINK_TYPES = ("log", "webhook", "slack")
OPS = (">=", ">", "<=", "<")
RATE_METRICS = (
    "completion_rate",
    "error_rate",
    "runs",
    "outcome_success_rate",
    "outcome_score",
    "cost_usd",  # the window's spend: USD summed over its runs
    "run_cost_usd",  # the costliest run of the window, USD
)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class SinkConfig:
    name: str
    type: str
    url: str | None = None
    timeout: float = 5.0


@dataclass(frozen=True)
class AlertRule:
    """One rule; exactly one of ``check`` and ``metric`` is set."""

    name: str
    severity: Severity
    window: timedelta
    threshold: float = 1.0
    op: str = ">="
    check: str | None = None
    min_severity: Severity = Severity.INFO
    metric: str | None = None
    agent: str | None = None
    env: str | None = None
    baseline: str | None = None
    cooldown: timedelta = timedelta(0)
    sinks: tuple[str, ...] | None = None
    auto_rollback_env: str | None = None

    def breached(self, value: float) -> bool:
        t = self.threshold
        return {
            ">=": value >= t,
            ">": value > t,
            "<=": value <= t,
            "<": value < t,
        }[self.op]


@dataclass(frozen=True)
class AlertConfig:
    rules: tuple[AlertRule, ...]
    sinks: tuple[SinkConfig, ...]


class _Fields:
    """Reads typed fields from one mapping, raising :class:`SpecError` with its path."""

    def __init__(self, source: str, path: str, data: Any, allowed: set[str]) -> None:
        self.source, self.path = source, path
        if not isinstance(data, Mapping):
            self.fail(None, f"must be a mapping, not {type(data).__name__}")
        extra = sorted(str(k) for k in set(data) - allowed)
        if extra:
            self.fail(extra[0], unknown("field", extra[0], allowed))
        self.data = data

    def fail(self, key: str | None, reason: str) -> None:
        field = self.path if key is None else f"{self.path}.{key}"
        raise SpecError(self.source, field, reason)

    def str_(
        self, key: str, *, required: bool = False, choices: tuple[str, ...] = ()
    ) -> str | None:
        v = self.data.get(key)
        if v is None:
            if required:
                self.fail(key, "is required")
            return None
        if not isinstance(v, str) or not v.strip():
            self.fail(key, "must be a non-empty string")
        if choices and v not in choices:
            self.fail(key, f"{v!r} is not one of {', '.join(choices)}")
        return str(v)

    def number(self, key: str, default: float) -> float:
        v = self.data.get(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(key, f"must be a number, not {v!r}")
        return float(v)

    def duration(self, key: str, *, required: bool = False) -> timedelta | None:
        v = self.data.get(key)
        if v is None:
            if required:
                self.fail(key, "is required (e.g. 1h)")
            return None
        try:
            return parse_duration(str(v), key)
        except InputError:
            self.fail(key, f"{v!r} is not a duration like 90s, 15m, 1h, 7d or 2w")
        raise AssertionError  # pragma: no cover

    def severity(self, key: str, default: Severity | None) -> Severity:
        v = self.str_(key, required=default is None, choices=tuple(s.value for s in Severity))
        return Severity(v) if v is not None else default  # type: ignore[return-value]


_SINK_FIELDS = {"name", "type", "url", "timeout"}
_RULE_FIELDS = {
    "name", "check", "metric", "min_severity", "agent", "env", "baseline", "op", "threshold",
    "severity", "window", "cooldown", "sinks", "auto_rollback",
}  # fmt: skip


def _sink(source: str, i: int, data: Any) -> SinkConfig:
    f = _Fields(source, f"sinks[{i}]", data, _SINK_FIELDS)
    name = f.str_("name", required=True) or ""
    kind = f.str_("type", required=True, choices=SINK_TYPES) or ""
    url = f.str_("url", required=kind != "log")
    if url is not None and not url.startswith(("http://", "https://")):
        f.fail("url", f"{url!r} is not an http(s) URL")
    timeout = f.number("timeout", 5.0)
    if timeout <= 0:
        f.fail("timeout", "must be positive")
    return SinkConfig(name, kind, url, timeout)


def _rule(source: str, i: int, data: Any, sink_names: set[str]) -> AlertRule:
    f = _Fields(source, f"rules[{i}]", data, _RULE_FIELDS)
    name = f.str_("name", required=True) or ""
    if not _NAME.match(name):
        f.fail("name", "use letters, digits, '.', '_' and '-' (at most 100)")
    check, metric = f.str_("check"), f.str_("metric")
    if (check is None) == (metric is None):
        f.fail(None, "give exactly one of 'check' or 'metric'")
    agent, env = f.str_("agent"), f.str_("env")
    if metric is not None:
        known = metric in RATE_METRICS or metric == "drift"
        if not (
            known or (metric.startswith(("drift:", "score:")) and len(metric.split(":", 1)[1]) > 0)
        ):
            f.fail(
                "metric",
                f"{metric!r}: use drift, drift:<metric>, score:<evaluator>, {', '.join(RATE_METRICS)}",
            )
        if agent is None:
            f.fail("agent", "is required for a metric rule")
    if check is not None and "baseline" in f.data:
        f.fail("baseline", "applies to metric rules only")
    sinks = f.data.get("sinks")
    if sinks is not None:
        if not isinstance(sinks, list) or not all(isinstance(s, str) for s in sinks):
            f.fail("sinks", "must be a list of sink names")
        missing = [s for s in sinks if s not in sink_names]
        if missing:
            f.fail("sinks", f"no sink named {missing[0]!r}")
    severity = f.severity("severity", None)
    rollback_env = None
    rb = f.data.get("auto_rollback")
    if rb is not None:
        g = _Fields(source, f"rules[{i}].auto_rollback", rb, {"env"})
        rollback_env = g.str_("env", required=True)
        if severity is not Severity.CRITICAL:
            f.fail("auto_rollback", "only a critical rule can roll back")
        if agent is None:
            f.fail("agent", "is required with auto_rollback (the agent to roll back)")
    return AlertRule(
        name=name,
        severity=severity,
        window=f.duration("window", required=True) or timedelta(0),
        threshold=f.number("threshold", 1.0),
        op=f.str_("op", choices=OPS) or ">=",
        check=check,
        min_severity=f.severity("min_severity", Severity.INFO),
        metric=metric,
        agent=agent,
        env=env,
        baseline=f.str_("baseline"),
        cooldown=f.duration("cooldown") or timedelta(0),
        sinks=tuple(sinks) if sinks is not None else None,
        auto_rollback_env=rollback_env,
    )


def parse_alert_config(data: Any, source: str = "alerts.yaml") -> AlertConfig:
    """Validate a parsed YAML document (see the module docstring)."""
    top = _Fields(source, "(root)", data, {"rules", "sinks"})
    raw_sinks = data.get("sinks", [{"name": "log", "type": "log"}])
    if not isinstance(raw_sinks, list):
        raise SpecError(source, "sinks", "must be a list")
    sinks = tuple(_sink(source, i, s) for i, s in enumerate(raw_sinks))
    names = [s.name for s in sinks]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise SpecError(
            source,
            f"sinks[{names.index(dup, names.index(dup) + 1)}].name",
            f"duplicate sink {dup!r}",
        )
    raw_rules = data.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        top.fail("rules", "must be a non-empty list of rules")
    rules = tuple(_rule(source, i, r, set(names)) for i, r in enumerate(raw_rules))
    seen: set[str] = set()
    for i, r in enumerate(rules):
        if r.name in seen:
            raise SpecError(source, f"rules[{i}].name", f"duplicate rule {r.name!r}")
        seen.add(r.name)
    return AlertConfig(rules, sinks)


def load_alert_config(path: str | Path) -> AlertConfig:
    """Read and validate an alert rules file."""
    p = Path(path)
    return parse_alert_config(load_yaml(p), str(p))
