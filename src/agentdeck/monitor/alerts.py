"""Alert evaluation: rules -> observed values -> de-duplicated alerts -> sinks (-> rollback).

:func:`evaluate_alert_rules` is one evaluation pass (``agentdeck monitor --follow`` calls it
every ``--interval``; the server calls it on its own schedule). For each rule it observes a
value per subject (``agent@env``):

- a **check** rule counts the findings of that check (at least ``min_severity``) in the last
  ``window``, per agent and env (or only the rule's agent/env);
- a **metric** rule reads the window of its agent/env: ``drift`` is the largest score
  (effect / minimum effect) among drifted items of the window check, ``drift:<metric>`` the
  score of one item when it drifted (else 0), ``score:<evaluator>`` the mean online-evaluation
  score of the window's scored runs (eval spans), ``completion_rate``/``error_rate`` the
  window's rates, ``runs`` its run count; ``cost_usd`` the window's spend (USD summed over its
  runs' priced LLM calls), ``run_cost_usd`` the cost of its costliest run.

When the value breaches the threshold an alert fires, unless one is already open (or
acknowledged) for the same rule and subject (then its ``last_seen_at`` and value are
refreshed), or the last alert of the rule and subject opened less than ``cooldown`` ago.
Alerts stay open until resolved (``agentdeck alerts resolve ID``). A firing critical rule with
``auto_rollback`` rolls the agent back in that env, once per alert, recorded in the deployment
history with the alert as the reason.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from agentdeck.core.behaviour.profile import BehaviourProfile
from agentdeck.core.behaviour.records import (
    ALERT_ACKNOWLEDGED,
    ALERT_OPEN,
    ALERT_RESOLVED,
    AlertRecord,
)
from agentdeck.core.behaviour.run_checks import Severity
from agentdeck.core.cost import usd
from agentdeck.core.errors import AgentDeckError, InputError, UnresolvedReferenceError
from agentdeck.core.evals.scores import scores_of
from agentdeck.core.trace.query import RunQuery
from agentdeck.monitor import metrics
from agentdeck.monitor.alert_rules import AlertConfig, AlertRule
from agentdeck.monitor.alert_sinks import AlertSink, LogSink, build_sinks
from agentdeck.monitor.profiles import ProfileStore, RunSelection, build_stored_profile
from agentdeck.monitor.window import check_window
from agentdeck.store.protocol import CostStore, MonitorStore, Store

log = logging.getLogger("agentdeck.alerts")

Alert = AlertRecord
OPEN, ACKNOWLEDGED, RESOLVED = ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED
ACTIVE = (OPEN, ACKNOWLEDGED)
MONITOR_ACTOR = "agentdeck-monitor"
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


@dataclass(frozen=True)
class Observation:
    agent: str | None
    env: str | None
    value: float
    detail: str

    @property
    def subject(self) -> str:
        return f"{self.agent or '*'}@{self.env or '*'}"


def _observe_check(store: MonitorStore, rule: AlertRule, now: datetime) -> list[Observation]:
    assert rule.check is not None
    severities = [s.value for s in Severity if _RANK[s] >= _RANK[rule.min_severity]]
    counts = store.count_findings(rule.check, now - rule.window, now, severities)
    out = [
        Observation(a, e, float(n), f"{n} {rule.check} finding(s) in the last {rule.window}")
        for a, e, n in counts
        if (rule.agent is None or a == rule.agent) and (rule.env is None or e == rule.env)
    ]
    if rule.agent is not None and not out:  # an explicit subject always has a value
        out.append(Observation(rule.agent, rule.env, 0.0, f"no {rule.check} findings"))
    return out


def _observe_metric(store: ProfileStore, rule: AlertRule, now: datetime) -> list[Observation]:
    assert rule.metric is not None and rule.agent is not None
    m = rule.metric
    if m.startswith("drift"):
        wc = check_window(store, rule.agent, rule.env, rule.window, rule.baseline, now=now)
        if m == "drift":
            drifted = wc.report.drifted
            value = max((i.score for i in drifted), default=0.0)
            names = ", ".join(i.metric for i in drifted[:5]) or "nothing"
            detail = f"drifted vs baseline {wc.baseline}: {names} (max score {value:.2f})"
        else:
            item = wc.report.item(m.split(":", 1)[1])
            value = item.score if item is not None and item.drifted else 0.0
            detail = item.explanation if item is not None else f"{m} was not compared"
        return [Observation(wc.agent, rule.env, value, detail)]
    from agentdeck.monitor.profiles import agent_filter

    name, digest = agent_filter(store, rule.agent)
    if m.startswith("score:"):
        return _observe_score(store, rule, m.split(":", 1)[1], name, digest, now)
    if m in ("cost_usd", "run_cost_usd"):
        return _observe_cost(store, rule, name, digest, now)
    prof = build_stored_profile(store, RunSelection(name, digest, rule.env, now - rule.window, now))
    if m == "runs":
        return [Observation(name, rule.env, float(prof.n_runs), f"{prof.n_runs} runs")]
    if prof.n_runs == 0:
        return []
    rate, over = _rate(prof, m)
    if rate is None:  # no run of the window has an outcome (or a score) yet
        return []
    return [Observation(name, rule.env, rate, f"{m} {rate:.3f} over {over}")]


def _rate(prof: BehaviourProfile, metric: str) -> tuple[float | None, str]:
    runs = f"{prof.n_runs} runs"
    if metric == "completion_rate":
        return prof.completion_rate, runs
    if metric == "outcome_success_rate":
        return prof.outcome_success_rate, f"{prof.outcomes[1]} runs with an outcome"
    if metric == "outcome_score":
        scores = prof.numeric.get("outcome_score")
        if scores is None or not scores.count:
            return None, ""
        return scores.mean, f"{scores.count} scored runs (mean)"
    return prof.error_rate, runs


def _observe_cost(
    store: ProfileStore, rule: AlertRule, name: str, digest: str | None, now: datetime
) -> list[Observation]:
    """The window's spend (``cost_usd``) or its costliest run (``run_cost_usd``); none when
    the store keeps no cost or the window has no priced run."""
    if not isinstance(store, CostStore):
        return []
    totals = store.cost_totals(
        "agent",
        agent_name=name,
        agent_digest=digest,
        env=rule.env,
        since_ns=int((now - rule.window).timestamp() * 1e9),
        until_ns=int(now.timestamp() * 1e9),
    )
    if not totals:
        return []
    t = totals[0]
    unpriced = f", {t.unpriced_calls} unpriced call(s) left out" if t.unpriced_calls else ""
    if rule.metric == "cost_usd":
        if t.cost_usd is None:
            return []
        detail = f"spent {usd(t.cost_usd)} over {t.runs} runs{unpriced}"
        return [Observation(name, rule.env, t.cost_usd, detail)]
    if t.max_cost_usd is None:
        return []
    detail = f"costliest run {usd(t.max_cost_usd)} of {t.runs} runs{unpriced}"
    return [Observation(name, rule.env, t.max_cost_usd, detail)]


MAX_SCORED_RUNS = 10_000


def _observe_score(
    store: ProfileStore,
    rule: AlertRule,
    evaluator: str,
    name: str,
    digest: str | None,
    now: datetime,
) -> list[Observation]:
    """Mean score of ``evaluator`` over the window's runs that it scored (the newest
    :data:`MAX_SCORED_RUNS` runs at most); no observation when none were scored."""
    since = int((now - rule.window).timestamp() * 1e9)
    runs = store.find_runs(
        RunQuery(
            agent_name=name,
            agent_digest=digest,
            env=rule.env,
            since_ns=since,
            until_ns=int(now.timestamp() * 1e9),
            limit=MAX_SCORED_RUNS,
        )
    )
    values = [
        sc.value
        for _, spans in store.get_runs_with_spans([r.trace_id for r in runs])
        for sc in scores_of(spans)
        if sc.evaluator == evaluator
    ]
    if not values:
        return []
    mean = sum(values) / len(values)
    return [
        Observation(
            name,
            rule.env,
            mean,
            f"{evaluator} mean score {mean:.3f} over {len(values)} scored runs",
        )
    ]


def observe(store: ProfileStore, rule: AlertRule, now: datetime) -> list[Observation]:
    """The rule's current value per subject."""
    if rule.check is not None:
        return _observe_check(store, rule, now)
    return _observe_metric(store, rule, now)


def _rollback(store: Store, rule: AlertRule, alert: AlertRecord) -> str:
    from agentdeck.registry.deployments import Deployments

    env = rule.auto_rollback_env or ""
    agent = alert.agent_name or rule.agent or ""
    reason = f"auto-rollback by alert {alert.id} ({rule.name}): {alert.message}"
    try:
        dep = Deployments(store).rollback(agent, env, MONITOR_ACTOR, reason=reason)
    except AgentDeckError as exc:
        log.error("alert %s: auto-rollback of %s in %s failed: %s", alert.id, agent, env, exc)
        return f"auto-rollback of {agent} in {env} failed: {exc}"
    return f"rolled back {agent} in {env} to {agent}@{dep.agent_version} (deployment {dep.id})"


def _notify(
    alert: AlertRecord, names: Sequence[str] | None, sinks: Mapping[str, AlertSink]
) -> None:
    for name, sink in sinks.items():
        if names is not None and name not in names:
            continue
        try:
            sink.send(alert)
        except Exception as exc:  # one broken receiver must not stop the others
            log.warning("alert %s: sink %s failed: %s", alert.id, name, exc)


def evaluate_alert_rules(
    store: Store,
    rules: AlertConfig | Sequence[AlertRule],
    now: datetime | None = None,
    *,
    sinks: Mapping[str, AlertSink] | None = None,
) -> list[Alert]:
    """One evaluation pass; returns the alerts that fired now (new, after de-duplication).

    Sinks default to those of ``rules`` when it is an :class:`AlertConfig`, else one log sink.
    A rule that cannot be evaluated (e.g. no baseline yet) is logged and skipped.
    """
    now = now or datetime.now(UTC)
    if isinstance(rules, AlertConfig):
        rule_list: Sequence[AlertRule] = rules.rules
        sinks = sinks if sinks is not None else build_sinks(rules.sinks)
    else:
        rule_list = rules
    sinks = sinks if sinks is not None else {"log": LogSink()}
    fired: list[Alert] = []
    for rule in rule_list:
        try:
            observations = observe(store, rule, now)
        except InputError as exc:
            log.warning("alert rule %s: cannot evaluate: %s", rule.name, exc)
            continue
        for obs in observations:
            if not rule.breached(obs.value):
                continue
            active = store.list_alerts(ACTIVE, rule.name, obs.subject, limit=1)
            if active:
                store.update_alert(replace(active[0], last_seen_at=now, value=obs.value))
                continue
            last = store.list_alerts(None, rule.name, obs.subject, limit=1)
            if last and now - last[0].opened_at < rule.cooldown:
                continue
            alert = AlertRecord(
                id=uuid.uuid4().hex,
                rule=rule.name,
                subject=obs.subject,
                agent_name=obs.agent,
                env=obs.env,
                severity=rule.severity.value,
                status=OPEN,
                message=f"{rule.name}: value {obs.value:g} {rule.op} {rule.threshold:g}; {obs.detail}",
                value=obs.value,
                opened_at=now,
                last_seen_at=now,
                updated_at=now,
                updated_by=MONITOR_ACTOR,
            )
            store.put_alert(alert)
            if rule.auto_rollback_env is not None and rule.severity is Severity.CRITICAL:
                alert = replace(alert, action=_rollback(store, rule, alert))
                store.update_alert(alert)
            metrics.record_alert(rule.name, alert.severity)
            _notify(alert, rule.sinks, sinks)
            fired.append(alert)
    return fired


def set_alert_status(
    store: MonitorStore, alert_id: str, status: str, actor: str, now: datetime | None = None
) -> Alert:
    """Acknowledge or resolve an alert (by id or unique id prefix)."""
    if status not in (ACKNOWLEDGED, RESOLVED):
        raise InputError(f"status: {status!r} is not acknowledged or resolved")
    alert = store.get_alert(alert_id)
    if alert is None:
        raise UnresolvedReferenceError(
            alert_id, "no alert with that id (or the prefix is ambiguous)"
        )
    if alert.status == RESOLVED:
        return alert
    updated = replace(alert, status=status, updated_at=now or datetime.now(UTC), updated_by=actor)
    store.update_alert(updated)
    return updated
