"""Canaries: a deployment in progress with two arms, a share, a plan of steps, guard rails.

The env's gate settings carry a ``canary`` section (all keys optional, each checked by
:func:`canary_config`, an unknown key refused with the nearest known one)::

    canary:
      alpha: 0.05              # false-rollback budget of the whole canary, all metrics together
      key: session             # session | user | run: what the arm assignment hashes
      min_runs_per_arm: 30     # no judgement of harm before each arm has this many runs
      tune_runs: 500           # candidate runs at which the test is most sensitive
                               # (default: the first step's min_runs)
      plan:                    # steps; the last is normally 100 (the candidate takes over)
        - {share: 10, min_runs: 500, min_minutes: 10}
        - {share: 25, min_runs: 500, min_minutes: 10}
        - {share: 50, min_runs: 500, min_minutes: 10}
        - {share: 100}
      guardrails:              # per metric: false switches it off; margin = tolerated harm
        tool_error: {margin: 0.0}
        latency: {margin: 0.5}

``min_runs`` counts candidate runs since the step began.

A shadow (``--shadow``) reads a ``shadow`` section too::

      shadow:
        sample: 100            # percent of the stable arm's finished runs the candidate shadows
        max_per_pass: 20       # shadow runs per server pass, at most
        live_tools: [lookup_order]   # read-only tools run live; the others are served
                                     # from the stable run's recording
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from agentdeck.core.errors import SpecError

__all__ = [
    "METRICS",
    "Canary",
    "CanaryConfig",
    "CanaryRun",
    "CanaryState",
    "Guardrail",
    "Metric",
    "ShadowConfig",
    "Step",
    "canary_config",
]


class CanaryState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"  # the candidate took over the env
    ROLLED_BACK = "rolled_back"  # a guard rail was breached; all traffic back on stable
    ABORTED = "aborted"  # stopped by a person

    @property
    def active(self) -> bool:
        return self in (CanaryState.RUNNING, CanaryState.PAUSED)


@dataclass(frozen=True)
class Metric:
    """A per-run measure the canary compares; ``higher_is_worse`` orients harm."""

    name: str
    higher_is_worse: bool
    unit: str
    label: str


METRICS: tuple[Metric, ...] = (
    Metric("outcome", False, "rate", "outcome success rate"),
    Metric("feedback", False, "score", "feedback score"),
    Metric("error", True, "rate", "run error rate"),
    Metric("tool_error", True, "rate", "runs with a tool error"),
    Metric("denial", True, "rate", "runs with a policy denial"),
    Metric("cost", True, "USD", "cost per run"),
    Metric("latency", True, "s", "latency per run"),
    Metric("tool_surprise", True, "bits", "tool-selection surprise vs stable"),
    Metric("transition_novelty", True, "rate", "unseen action transitions vs stable"),
)
_METRIC_NAMES = tuple(m.name for m in METRICS)


@dataclass(frozen=True)
class Step:
    share: float  # percent of runs on the candidate
    min_runs: int = 0
    min_minutes: float = 0.0


@dataclass(frozen=True)
class Guardrail:
    metric: str
    margin: float = 0.0


DEFAULT_PLAN = (
    Step(10, 500, 10),
    Step(25, 500, 10),
    Step(50, 500, 10),
    Step(100),
)


@dataclass(frozen=True)
class ShadowConfig:
    sample: float = 100.0  # percent of the stable arm's finished runs shadowed
    max_per_pass: int = 20
    live_tools: tuple[str, ...] = ()


@dataclass(frozen=True)
class CanaryConfig:
    alpha: float = 0.05
    key: str = "session"
    min_runs_per_arm: int = 30
    plan: tuple[Step, ...] = DEFAULT_PLAN
    tune_runs: int | None = None
    guardrails: tuple[Guardrail, ...] = tuple(Guardrail(m) for m in _METRIC_NAMES)
    shadow: ShadowConfig = ShadowConfig()

    @property
    def t_star(self) -> float:
        """All runs (both arms) at which the sequential test is tuned to be tightest."""
        first = self.plan[0]
        tune = self.tune_runs if self.tune_runs is not None else (first.min_runs or 500)
        return max(100.0, tune / max(first.share / 100.0, 1e-3))

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "key": self.key,
            "min_runs_per_arm": self.min_runs_per_arm,
            "tune_runs": self.tune_runs,
            "plan": [
                {"share": s.share, "min_runs": s.min_runs, "min_minutes": s.min_minutes}
                for s in self.plan
            ],
            "guardrails": {
                m: ({"margin": on[m].margin} if m in on else False)
                for m in _METRIC_NAMES
                for on in [{g.metric: g for g in self.guardrails}]
            },
            "shadow": {
                "sample": self.shadow.sample,
                "max_per_pass": self.shadow.max_per_pass,
                "live_tools": list(self.shadow.live_tools),
            },
        }


_TOP = ("alpha", "key", "min_runs_per_arm", "tune_runs", "plan", "guardrails", "shadow")
_SHADOW = ("sample", "max_per_pass", "live_tools")
_STEP = ("share", "min_runs", "min_minutes")


def _unknown(source: str, where: str, key: str, known: tuple[str, ...]) -> SpecError:
    near = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {near[0]!r}?" if near else f" (known: {', '.join(known)})"
    return SpecError(source, f"{where}.{key}" if where else key, f"unknown key{hint}")


def _number(
    source: str, field_: str, v: Any, lo: float, hi: float, *, integer: bool = False
) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and lo <= v <= hi
    if ok and integer and float(v) != int(v):
        ok = False
    if not ok:
        kind = "an integer" if integer else "a number"
        raise SpecError(source, field_, f"must be {kind} from {lo:g} to {hi:g}, not {v!r}")
    return float(v)


def canary_config(settings: Mapping[str, Any] | None, source: str = "gates.canary") -> CanaryConfig:
    """The canary section of an env's gate settings, checked (None or {}: the defaults)."""
    if settings is None:
        return CanaryConfig()
    if not isinstance(settings, Mapping):
        raise SpecError(source, "", "must be a mapping")
    for k in settings:
        if k not in _TOP:
            raise _unknown(source, "", str(k), _TOP)
    base = CanaryConfig()
    alpha = _number(source, "alpha", settings.get("alpha", base.alpha), 1e-6, 0.5)
    key = settings.get("key", base.key)
    if key not in ("session", "user", "run"):
        raise SpecError(source, "key", f"must be session, user or run, not {key!r}")
    mra = int(
        _number(
            source,
            "min_runs_per_arm",
            settings.get("min_runs_per_arm", base.min_runs_per_arm),
            2,
            1e9,
            integer=True,
        )
    )
    tune = settings.get("tune_runs")
    if tune is not None:
        tune = int(_number(source, "tune_runs", tune, 10, 1e9, integer=True))
    plan = base.plan
    if "plan" in settings:
        raw = settings["plan"]
        if not isinstance(raw, list) or not raw:
            raise SpecError(source, "plan", "must be a non-empty list of steps")
        steps: list[Step] = []
        for i, s in enumerate(raw):
            where = f"plan[{i}]"
            if not isinstance(s, Mapping):
                raise SpecError(
                    source, where, "must be a mapping with share, min_runs, min_minutes"
                )
            for k in s:
                if k not in _STEP:
                    raise _unknown(source, where, str(k), _STEP)
            if "share" not in s:
                raise SpecError(source, f"{where}.share", "is required")
            share = _number(source, f"{where}.share", s["share"], 0.01, 100)
            if steps and share <= steps[-1].share:
                raise SpecError(source, f"{where}.share", "shares must increase from step to step")
            steps.append(
                Step(
                    share,
                    int(
                        _number(
                            source, f"{where}.min_runs", s.get("min_runs", 0), 0, 1e9, integer=True
                        )
                    ),
                    _number(source, f"{where}.min_minutes", s.get("min_minutes", 0), 0, 1e6),
                )
            )
        plan = tuple(steps)
    rails = base.guardrails
    if "guardrails" in settings:
        raw_g = settings["guardrails"]
        if not isinstance(raw_g, Mapping):
            raise SpecError(
                source, "guardrails", "must be a mapping of metric -> {margin} or false"
            )
        chosen = {g.metric: g for g in base.guardrails}
        for name, v in raw_g.items():
            if name not in _METRIC_NAMES:
                raise _unknown(source, "guardrails", str(name), _METRIC_NAMES)
            where = f"guardrails.{name}"
            if v is False:
                chosen.pop(name, None)
            elif v is True or v is None:
                chosen[name] = Guardrail(name)
            elif isinstance(v, Mapping):
                for k in v:
                    if k != "margin":
                        raise _unknown(source, where, str(k), ("margin",))
                chosen[name] = Guardrail(
                    name, _number(source, f"{where}.margin", v.get("margin", 0.0), 0, 1e9)
                )
            else:
                raise SpecError(source, where, "must be false, true or {margin: N}")
        rails = tuple(chosen[m] for m in _METRIC_NAMES if m in chosen)
    return CanaryConfig(alpha, str(key), mra, plan, tune, rails, _shadow(source, settings))


def _shadow(source: str, settings: Mapping[str, Any]) -> ShadowConfig:
    raw = settings.get("shadow")
    if raw is None:
        return ShadowConfig()
    if not isinstance(raw, Mapping):
        raise SpecError(source, "shadow", "must be a mapping with sample, max_per_pass, live_tools")
    for k in raw:
        if k not in _SHADOW:
            raise _unknown(source, "shadow", str(k), _SHADOW)
    sample = _number(source, "shadow.sample", raw.get("sample", 100.0), 0.01, 100)
    most = _number(source, "shadow.max_per_pass", raw.get("max_per_pass", 20), 1, 1e6, integer=True)
    live = raw.get("live_tools", [])
    if not isinstance(live, list) or not all(isinstance(t, str) and t for t in live):
        raise SpecError(source, "shadow.live_tools", "must be a list of tool names")
    return ShadowConfig(sample, int(most), tuple(live))


@dataclass(frozen=True)
class Canary:
    """A canary (or shadow) of ``candidate_version`` against the stable deployment of
    ``agent_name`` in ``env``. ``id`` is the candidate arm's deployment id (and the id of the
    deployment appended when it completes). ``step`` indexes ``config.plan``; ``share`` is the
    share in force (0 once it ended). ``judgement`` is the last one, as stored JSON."""

    id: str
    agent_name: str
    env: str
    candidate_digest: str
    candidate_version: int
    stable_deployment_id: str
    stable_digest: str
    stable_version: int
    config: CanaryConfig
    step: int
    share: float
    state: CanaryState
    shadow: bool
    actor: str
    reason: str
    started_at: datetime
    step_started_at: datetime
    updated_at: datetime
    version: int = 1  # compare-and-set counter
    judgement: Mapping[str, Any] = field(default_factory=dict)

    @property
    def current(self) -> Step:
        return self.config.plan[self.step]


@dataclass(frozen=True)
class CanaryRun:
    """What the judgement reads of one run of a canary (either arm), from the runs table."""

    trace_id: str
    arm: str
    share: float | None  # percent, as assigned (None: not recorded)
    start_ns: int
    end_ns: int | None
    error: bool
    tool_errors: int
    denied_calls: int
    outcome: str | None
    outcome_score: float | None
    cost_usd: float | None = None
    feedback: float | None = None  # mean feedback score
    shadow_of: str | None = None  # a shadow run: the stable run whose input it ran on
