"""The judgement of a canary: every guard rail's sequential comparison, and what to do next.

:func:`judge` is pure: it gets the canary, its runs in arrival order (each with its arm, the
share it was assigned under and its per-metric values) and the time, and returns a
:class:`Judgement`: roll back (a guard rail breached), advance to the next step (the step's
minimum candidate runs and minutes reached, nothing breached), complete (the next step is 100 %
or there is none), or hold. The false-rollback budget ``alpha`` is split evenly over the
guard rails (Bonferroni), each compared with :func:`~agentdeck.core.deploy.sequential.compare`,
which stays valid however often it is looked at, so the server may judge after every run.

:func:`behaviour_values` turns the runs' tool sequences into two per-run behaviour metrics
measured against what the stable arm did *before* each run (a predictable reference, so the
comparison stays a martingale): the mean surprise ``-log2 p(tool)`` of the run's tool calls
under the stable arm's tool-selection frequencies (add-one smoothed), and the share of the
run's action transitions (``start -> tool -> ... -> end``) the stable arm never made.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from agentdeck.core.deploy.canary import METRICS, Canary, CanaryConfig, CanaryState
from agentdeck.core.deploy.sequential import compare

__all__ = [
    "Judgement",
    "MetricResult",
    "RunObs",
    "behaviour_values",
    "judge",
    "metric_results",
]

ROLLBACK, ADVANCE, COMPLETE, HOLD = "rollback", "advance", "complete", "hold"
_METRIC = {m.name: m for m in METRICS}


@dataclass(frozen=True)
class RunObs:
    """One run of the canary: candidate or stable, the share (percent) it was assigned under."""

    trace_id: str
    candidate: bool
    share: float
    start_ns: int
    values: Mapping[str, float | None]
    shared: bool = True  # the share was recorded on the run (not the canary's, assumed)


@dataclass(frozen=True)
class MetricResult:
    metric: str
    label: str
    unit: str
    higher_is_worse: bool
    margin: float
    candidate_runs: int
    candidate_mean: float | None
    stable_runs: int
    stable_mean: float | None
    estimate: float | None  # candidate minus stable
    lower: float | None
    upper: float | None
    p_value: float
    breached: bool
    breached_at_run: int | None

    @property
    def stop_rule(self) -> str:
        side = "lower bound above" if self.higher_is_worse else "upper bound below"
        edge = self.margin if self.higher_is_worse else -self.margin
        return f"{self.metric}: candidate - stable {side} {edge:g} {self.unit}"


@dataclass(frozen=True)
class Judgement:
    at: datetime
    decision: str
    reason: str
    step: int
    share: float
    next_share: float | None
    step_candidate_runs: int
    candidate_runs: int
    stable_runs: int
    alpha_per_metric: float
    metrics: tuple[MetricResult, ...]
    waiting_for: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["at"] = self.at.isoformat()
        d["metrics"] = [{**asdict(m), "stop_rule": m.stop_rule, **_finite(m)} for m in self.metrics]
        d["waiting_for"] = list(self.waiting_for)
        d["breaches"] = [m.metric for m in self.metrics if m.breached]
        return d


def _finite(m: MetricResult) -> dict[str, float | None]:
    def f(x: float | None) -> float | None:
        return x if x is not None and math.isfinite(x) else None

    return {"lower": f(m.lower), "upper": f(m.upper), "estimate": f(m.estimate)}


def judge(canary: Canary, runs: Sequence[RunObs], now: datetime) -> Judgement:
    cfg = canary.config
    alpha_each, results = metric_results(cfg, runs)
    return _decide(canary, runs, now, alpha_each, results)


def metric_results(cfg: CanaryConfig, runs: Sequence[RunObs]) -> tuple[float, list[MetricResult]]:
    """(alpha per guard rail, each guard rail's comparison) over ``runs`` in arrival order.
    A result's ``breached_at_run`` counts the runs that had a value for its metric."""
    rails = cfg.guardrails
    alpha_each = cfg.alpha / max(1, len(rails))
    t_star = cfg.t_star
    results: list[MetricResult] = []
    for g in rails:
        meta = _METRIC[g.metric]
        obs = [
            (r.candidate, r.share / 100.0, v)
            for r in runs
            if (v := r.values.get(g.metric)) is not None
        ]
        c = compare(
            obs,
            alpha=alpha_each,
            t_star=t_star,
            higher_is_worse=meta.higher_is_worse,
            margin=g.margin,
            min_runs=cfg.min_runs_per_arm,
        )
        results.append(
            MetricResult(
                g.metric,
                meta.label,
                meta.unit,
                meta.higher_is_worse,
                g.margin,
                c.candidate.runs,
                c.candidate.mean,
                c.stable.runs,
                c.stable.mean,
                c.estimate,
                c.lower,
                c.upper,
                c.p_value,
                c.harm_at is not None,
                c.harm_at,
            )
        )
    return alpha_each, results


def _decide(
    canary: Canary,
    runs: Sequence[RunObs],
    now: datetime,
    alpha_each: float,
    results: list[MetricResult],
) -> Judgement:
    cfg = canary.config
    n_c = sum(1 for r in runs if r.candidate)
    step = canary.current
    step_start_ns = int(canary.step_started_at.timestamp() * 1e9)
    # a run of this step: assigned under its share (else, share unknown: started after it)
    step_c = sum(
        1
        for r in runs
        if r.candidate and (r.share == step.share if r.shared else r.start_ns >= step_start_ns)
    )
    nxt = canary.config.plan[canary.step + 1] if canary.step + 1 < len(cfg.plan) else None
    waiting: list[str] = []
    if step_c < step.min_runs:
        waiting.append(f"{step.min_runs - step_c} more candidate runs at {step.share:g} %")
    left = canary.step_started_at + timedelta(minutes=step.min_minutes) - now
    if left > timedelta(0):
        waiting.append(f"{math.ceil(left.total_seconds() / 60)} more minutes at {step.share:g} %")
    breached = [m for m in results if m.breached]

    def out(decision: str, reason: str) -> Judgement:
        return Judgement(
            now, decision, reason, canary.step, canary.share, nxt.share if nxt else None,
            step_c, n_c, len(runs) - n_c, alpha_each, tuple(results), tuple(waiting),
        )  # fmt: skip

    if breached:
        names = ", ".join(
            f"{m.metric} ({_fmt(m.candidate_mean)} vs {_fmt(m.stable_mean)} {m.unit})"
            for m in breached
        )
        return out(ROLLBACK, f"guard rail breached: {names}")
    if canary.state is not CanaryState.RUNNING:
        return out(HOLD, f"canary is {canary.state.value}")
    if waiting:
        return out(HOLD, "waiting for " + " and ".join(waiting))
    if nxt is None or nxt.share >= 100:
        return out(COMPLETE, f"every step passed; the candidate takes {canary.env}")
    return out(ADVANCE, f"step {step.share:g} % passed; advancing to {nxt.share:g} %")


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.4g}"


def behaviour_values(
    runs: Sequence[tuple[bool, Sequence[str]]],
) -> list[tuple[float | None, float | None]]:
    """(tool surprise, transition novelty) of each run against the stable runs before it."""
    tools: Counter[str] = Counter()
    total = 0
    transitions: set[tuple[str, str]] = set()
    stable_seen = 0
    out: list[tuple[float | None, float | None]] = []
    for candidate, seq in runs:
        steps = ["^", *seq, "$"]
        pairs = list(itertools.pairwise(steps))
        if stable_seen == 0:
            out.append((None, None))
        else:
            vocab = len(tools) + 1
            surprise = (
                sum(-math.log2((tools[t] + 1) / (total + vocab)) for t in seq) / len(seq)
                if seq
                else 0.0
            )
            novelty = sum(1 for p in pairs if p not in transitions) / len(pairs)
            out.append((surprise, novelty))
        if not candidate:
            tools.update(seq)
            total += len(seq)
            transitions.update(pairs)
            stable_seen += 1
    return out
