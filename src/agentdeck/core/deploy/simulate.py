"""Simulate a canary plan against two arms' behaviour: how many runs it takes to catch a
difference, and how often identical versions are rolled back by mistake.

The judgement is valid when looked at after every run, and whether a step advances depends
only on run counts and time as long as nothing is breached; so one pass of
:func:`~agentdeck.core.deploy.judge.metric_results` over the whole stream of a plan gives the
run at which a server judging continuously would have rolled back (the first breach), or
that it would have walked the plan to the end. Pure and seeded: the tests and
``bench/canary_detection.py`` use it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from agentdeck.core.deploy.canary import CanaryConfig
from agentdeck.core.deploy.judge import RunObs, behaviour_values, metric_results

__all__ = ["ArmModel", "SimResult", "simulate"]


@dataclass(frozen=True)
class ArmModel:
    """How one version behaves, per run: probabilities of each event, latency, tools."""

    outcome_success: float = 0.9
    error: float = 0.01
    tool_error: float = 0.02
    denial: float = 0.01
    latency_mean_s: float = 2.0
    tools: tuple[tuple[str, float], ...] = field(
        default=(("lookup_order", 0.6), ("issue_refund", 0.3), ("search_kb", 0.1))
    )


@dataclass(frozen=True)
class SimResult:
    rolled_back: bool
    runs: int  # runs seen until the rollback, or in all
    candidate_runs: int
    steps_passed: int
    breached: tuple[str, ...]


def _run(rng: random.Random, arm: ArmModel) -> tuple[dict[str, float | None], list[str]]:
    names = [t for t, _ in arm.tools]
    weights = [w for _, w in arm.tools]
    seq = rng.choices(names, weights, k=1 + int(rng.random() < 0.5))
    values: dict[str, float | None] = {
        "outcome": float(rng.random() < arm.outcome_success),
        "error": float(rng.random() < arm.error),
        "tool_error": float(rng.random() < arm.tool_error),
        "denial": float(rng.random() < arm.denial),
        "latency": rng.expovariate(1.0 / arm.latency_mean_s),
    }
    return values, seq


def simulate(
    cfg: CanaryConfig,
    stable: ArmModel,
    candidate: ArmModel,
    seed: int,
    *,
    runs_per_minute: float = 60.0,
) -> SimResult:
    """Walk ``cfg.plan`` (up to its last step below 100 %) with runs drawn from the arms."""
    rng = random.Random(seed)
    obs: list[RunObs] = []
    seqs: list[tuple[bool, list[str]]] = []
    steps = [s for s in cfg.plan if s.share < 100]
    passed = 0
    for step in steps:
        need_runs = max(step.min_runs, 1)
        need_total = int(step.min_minutes * runs_per_minute)
        got = total = 0
        while got < need_runs or total < need_total:
            cand = rng.random() < step.share / 100.0
            values, seq = _run(rng, candidate if cand else stable)
            obs.append(RunObs(str(len(obs)), cand, step.share, len(obs), values))
            seqs.append((cand, seq))
            got += cand
            total += 1
        passed += 1
    beh = behaviour_values(seqs)
    full = [
        RunObs(o.trace_id, o.candidate, o.share, o.start_ns,
               {**o.values, "tool_surprise": b[0], "transition_novelty": b[1]})
        for o, b in zip(obs, beh, strict=True)
    ]  # fmt: skip
    _, results = metric_results(cfg, full)
    first: tuple[int, str] | None = None
    for m in results:
        if m.breached_at_run is None:
            continue
        # the run index at which the metric's breached_at_run-th value arrived
        seen = 0
        for i, o in enumerate(full):
            seen += o.values.get(m.metric) is not None
            if seen == m.breached_at_run:
                if first is None or i < first[0]:
                    first = (i, m.metric)
                break
    if first is None:
        return SimResult(False, len(full), sum(o.candidate for o in full), passed, ())
    end = first[0] + 1
    shares = {s.share: k for k, s in enumerate(steps)}
    return SimResult(
        True,
        end,
        sum(o.candidate for o in full[:end]),
        shares[full[first[0]].share],
        tuple(m.metric for m in results if m.breached),
    )
