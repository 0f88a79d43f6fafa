"""Window drift: compare a window's behaviour profile with a baseline's and name what changed.

Both sides are :class:`~agentdeck.core.behaviour.profile.BehaviourProfile`s built the same way, so a
comparison never touches raw runs. Every test of one report forms one family: p-values are
adjusted together (Holm by default, see :func:`agentdeck.monitor.stats.adjust_pvalues`) and
an item is *drifted* only when its adjusted p-value is below ``alpha`` **and** its effect size
reaches the category's minimum, so that huge windows do not flag trivia. Structural findings
(a new response model) carry no p-value: they are facts. A tool-API finding (a response field
new, missing or retyped) is tested like a rate: the share of responses where the field occurs
must change by at least ``min_presence_change`` under a two-proportion test, in the same family
(see :mod:`agentdeck.monitor.tool_api`).

Categories: ``behaviour`` (tool selection, transitions, steps, sequence anomalies, latency,
tokens, response models), ``rate`` (completion, run errors, tool errors, argument validity,
policy denials), ``tool_api`` (response schema changes per tool), ``response`` (same
arguments, different response; re-ranking), ``context`` (input length, turns, tool response
size, script, bag of words). docs/monitoring.md describes every test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from agentdeck.core.behaviour.profile import BehaviourProfile
from agentdeck.core.behaviour.schema_infer import FieldChange, schema_diff
from agentdeck.core.errors import InputError
from agentdeck.monitor.stats import (
    Correction,
    TestResult,
    adjust_pvalues,
    binomial_excess,
    clustered_chi2,
    ks_psi,
    two_proportions,
)
from agentdeck.monitor.tool_api import tool_support


class DriftCategory(StrEnum):
    BEHAVIOUR = "behaviour"
    RATE = "rate"
    TOOL_API = "tool_api"
    RESPONSE = "response"
    CONTEXT = "context"


@dataclass(frozen=True)
class DriftSettings:
    """Significance, multiple-testing control and minimum effect sizes.

    ``min_jsd``: Jensen-Shannon distance for distributions; ``min_cohen_h``: for rates;
    ``min_ks``: KS distance for numeric features; ``min_response_change``: excess share of
    same-argument calls whose response changed; ``min_presence_change``: change of the share
    of a tool's responses in which a field occurs (tool API drift). ``min_samples``: fewer units on either side
    skips the test (listed in :attr:`DriftReport.skipped`). ``response_noise``: the assumed
    rate of changed responses when the baseline has too few repeated calls to measure it.
    """

    alpha: float = 0.01
    correction: Correction = "holm"
    min_jsd: float = 0.05
    min_cohen_h: float = 0.1
    min_ks: float = 0.1
    min_response_change: float = 0.05
    min_presence_change: float = 0.1
    min_samples: int = 30
    min_expected: float = 5.0
    response_noise: float = 0.01


@dataclass(frozen=True)
class DriftItem:
    """One compared quantity. ``score`` = effect / minimum effect (>= 1 means big enough)."""

    category: DriftCategory
    metric: str
    statistic: float | None
    p_value: float | None
    effect_size: float
    effect_name: str
    explanation: str
    adjusted_p: float | None = None
    drifted: bool = False
    score: float = 0.0
    details: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": str(self.category),
            "metric": self.metric,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "adjusted_p": self.adjusted_p,
            "effect_size": self.effect_size,
            "effect_name": self.effect_name,
            "drifted": self.drifted,
            "score": self.score,
            "explanation": self.explanation,
            "details": dict(self.details),
        }


@dataclass(frozen=True)
class DriftReport:
    """All compared items, drifted first and most changed first; what was skipped and why."""

    items: tuple[DriftItem, ...]
    skipped: tuple[str, ...]
    correction: Correction
    alpha: float
    n_tests: int
    baseline_runs: int
    window_runs: int

    @property
    def drifted(self) -> tuple[DriftItem, ...]:
        return tuple(i for i in self.items if i.drifted)

    def item(self, metric: str) -> DriftItem | None:
        return next((i for i in self.items if i.metric == metric), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_runs": self.baseline_runs,
            "window_runs": self.window_runs,
            "correction": self.correction,
            "alpha": self.alpha,
            "n_tests": self.n_tests,
            "items": [i.to_dict() for i in self.items],
            "skipped": list(self.skipped),
        }


def _fmt_changes(res: TestResult) -> str:
    parts = [f"{k} {a:.1%} -> {b:.1%}" for k, a, b in res.top_changes[:3]]
    return "; ".join(parts)


class _Collector:
    def __init__(self, s: DriftSettings) -> None:
        self.s = s
        self.items: list[DriftItem] = []
        self.skipped: list[str] = []

    def add(
        self,
        category: DriftCategory,
        metric: str,
        res: TestResult | None,
        effect_name: str,
        minimum: float,
        describe: Callable[..., str],
    ) -> None:
        if res is None:
            self.skipped.append(f"{metric}: nothing to compare")
            return
        details = dict(res.details)
        self.items.append(
            DriftItem(
                category,
                metric,
                res.statistic,
                res.p_value,
                res.effect,
                effect_name,
                describe(res),
                score=res.effect / minimum,
                details=details,
            )
        )

    def enough(self, metric: str, n_base: int, n_window: int) -> bool:
        if min(n_base, n_window) < self.s.min_samples:
            self.skipped.append(
                f"{metric}: too few samples (baseline {n_base}, window {n_window}, "
                f"need {self.s.min_samples})"
            )
            return False
        return True


def _distributions(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    s = c.s
    specs = [
        (DriftCategory.BEHAVIOUR, "tool_selection", b.tool_calls, w.tool_calls, "tool-call shares"),
        (DriftCategory.BEHAVIOUR, "transitions", b.transitions, w.transitions, "transition shares"),
        (
            DriftCategory.CONTEXT,
            "input_script",
            b.dominant_script,
            w.dominant_script,
            "dominant script of inputs",
        ),
        (
            DriftCategory.CONTEXT,
            "input_words",
            b.bow,
            w.bow,
            "hashed bag-of-words buckets of inputs",
        ),
    ]
    for cat, metric, cb, cw, what in specs:
        if not c.enough(metric, cb.units, cw.units):
            continue
        res = clustered_chi2(cb, cw, s.min_expected)
        c.add(
            cat,
            metric,
            res,
            "jensen_shannon",
            s.min_jsd,
            lambda r, what=what: f"{what} changed (JSD {r.effect:.3f}): {_fmt_changes(r)}",
        )
    new_tools = sorted(set(w.tool_calls.counts) - set(b.tool_calls.counts))
    if new_tools:
        for i, it in enumerate(c.items):
            if it.metric == "tool_selection":
                c.items[i] = replace(
                    it,
                    explanation=f"{it.explanation}; tools not in baseline: {', '.join(new_tools)}",
                )


_NUMERIC = (
    (DriftCategory.BEHAVIOUR, "steps"),
    (DriftCategory.BEHAVIOUR, "latency_ms"),
    (DriftCategory.BEHAVIOUR, "tokens"),
    (DriftCategory.CONTEXT, "input_chars"),
    (DriftCategory.CONTEXT, "turns"),
    (DriftCategory.CONTEXT, "tool_response_bytes"),
    (DriftCategory.RATE, "outcome_score"),
)


def _numeric(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    for cat, name in _NUMERIC:
        nb, nw = b.numeric.get(name), w.numeric.get(name)
        if nb is None or nw is None or not c.enough(name, len(nb.sample), len(nw.sample)):
            continue
        res = ks_psi(nb.sample, nw.sample)
        c.add(
            cat,
            name,
            res,
            "ks_distance",
            c.s.min_ks,
            lambda r, name=name: (
                f"{name} distribution shifted (KS D {r.effect:.3f}, PSI {r.details['psi']:.3f}): "
                f"median {r.details['baseline_median']:g} -> {r.details['window_median']:g}"
            ),
        )


def _rates(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    rates: list[tuple[str, int, int, int, int]] = [
        ("completion_rate", b.completed, b.n_runs, w.completed, w.n_runs),
        ("run_error_rate", b.errored, b.n_runs, w.errored, w.n_runs),
        ("outcome_success_rate", *b.outcomes, *w.outcomes),
    ]

    def total(m: Mapping[str, tuple[int, int]]) -> tuple[int, int]:
        return sum(v[0] for v in m.values()), sum(v[1] for v in m.values())

    rates.append(("args_validity_rate", *total(b.args_validity), *total(w.args_validity)))
    rates.append(("tool_error_rate", *total(b.tool_errors), *total(w.tool_errors)))
    rates.append(
        (
            "policy_denial_rate",
            b.policy_effects.get("deny", 0),
            sum(b.policy_effects.values()),
            w.policy_effects.get("deny", 0),
            sum(w.policy_effects.values()),
        )
    )
    for tool in sorted(set(b.args_validity) & set(w.args_validity)):
        rates.append(
            (f"args_validity_rate[{tool}]", *b.args_validity[tool], *w.args_validity[tool])
        )
    for metric, xb, nb, xw, nw in rates:
        if not c.enough(metric, nb, nw):
            continue
        res = two_proportions(xb, nb, xw, nw)
        c.add(
            DriftCategory.RATE,
            metric,
            res,
            "cohen_h",
            c.s.min_cohen_h,
            lambda r, metric=metric: (
                f"{metric} {r.details['baseline']:.1%} -> {r.details['window']:.1%} (Cohen's h {r.effect:.3f})"
            ),
        )


def _sequences(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    metric = "sequence_anomaly_rate"
    if not c.enough(metric, len(b.sequence_sample), len(w.sequence_sample)):
        return
    model = b.transition_model()
    thr = b.sequence_threshold
    p0 = float((model.scores(b.sequence_sample) > thr).mean())
    p0 = max(p0, 1.0 / (len(b.sequence_sample) + 1))
    k = int((model.scores(w.sequence_sample) > thr).sum())
    res = binomial_excess(k, len(w.sequence_sample), p0)
    c.add(
        DriftCategory.BEHAVIOUR,
        metric,
        res,
        "cohen_h",
        c.s.min_cohen_h,
        lambda r: (
            f"{r.details['observed']:.1%} of window runs have action sequences improbable under "
            f"the baseline's transition model (baseline {r.details['expected']:.1%})"
        ),
    )


def _tool_api(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    for tool in sorted(set(b.response_schemas) & set(w.response_schemas)):
        changes = schema_diff(b.response_schemas[tool], w.response_schemas[tool])
        if not changes:
            continue
        metric = f"response_schema[{tool}]"
        pb, pw = b.response_presence.get(tool), w.response_presence.get(tool)
        if pb is None or pw is None:  # a profile stored before presence was kept
            _unsupported(c, tool, metric, changes)
            continue
        if not c.enough(metric, pb.n, pw.n):
            continue
        p, effect, tested = tool_support(changes, pb, pw)
        minimum = c.s.min_presence_change
        shown = [
            t for t in tested if t.rate_change >= minimum and t.p_value * len(tested) < c.s.alpha
        ]
        shown = shown or tested[:1]
        c.items.append(
            DriftItem(
                DriftCategory.TOOL_API,
                metric,
                float(len(changes)),
                p,
                effect,
                "presence_rate_change",
                f"tool {tool!r} responses changed: " + "; ".join(t.describe() for t in shown),
                score=effect / minimum,
                details={
                    f"{t.change.change}:{t.change.display_path}": t.window_rate - t.baseline_rate
                    for t in tested
                },
            )
        )


def _unsupported(c: _Collector, tool: str, metric: str, changes: list[FieldChange]) -> None:
    c.items.append(
        DriftItem(
            DriftCategory.TOOL_API,
            metric,
            float(len(changes)),
            None,
            float(len(changes)),
            "changed_fields",
            f"tool {tool!r} responses changed (no presence counts in a stored profile; "
            "rebuild it for a tested finding): " + "; ".join(ch.describe() for ch in changes),
            drifted=True,
            score=1.0 + len(changes),
            details={f"{ch.change}:{ch.display_path}": 1.0 for ch in changes},
        )
    )


def _structural(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    new_models = sorted(set(w.response_models) - set(b.response_models))
    if new_models:
        share = sum(w.response_models[m] for m in new_models) / max(
            sum(w.response_models.values()), 1
        )
        c.items.append(
            DriftItem(
                DriftCategory.BEHAVIOUR,
                "response_models",
                share,
                None,
                share,
                "share_of_calls",
                f"model ids not seen in the baseline answered {share:.1%} of LLM calls: {', '.join(new_models)}",
                drifted=True,
                score=1.0 + share,
            )
        )


def _responses(c: _Collector, b: BehaviourProfile, w: BehaviourProfile) -> None:
    s = c.s
    for tool in sorted(set(b.response_sketches) & set(w.response_sketches)):
        sb, sw = b.response_sketches[tool], w.response_sketches[tool]
        common = sb.entries.keys() & sw.entries.keys()
        metric = f"response_change[{tool}]"
        if not c.enough(metric, len(common), len(common)):
            continue
        changed = [k for k in common if sb.entries[k][0] != sw.entries[k][0]]
        reordered = sum(1 for k in changed if sb.entries[k][1] == sw.entries[k][1])
        n, k = len(common), len(changed)
        if sb.repeats >= s.min_samples:
            base_rate = sb.repeat_diff / sb.repeats
            res = two_proportions(sb.repeat_diff, sb.repeats, k, n)
            res = replace(res, p_value=res.p_value / 2 if k / n > base_rate else 1.0)
        else:
            base_rate = s.response_noise
            res = binomial_excess(k, n, base_rate)
        excess = max(k / n - base_rate, 0.0)
        order_share = reordered / k if k else 0.0
        res = replace(
            res,
            effect=excess,
            details={
                "changed_share": k / n,
                "baseline_change_rate": base_rate,
                "reordered_share": order_share,
                "common_args": float(n),
            },
        )
        c.add(
            DriftCategory.RESPONSE,
            metric,
            res,
            "excess_changed_share",
            s.min_response_change,
            lambda r, tool=tool, k=k, n=n, reordered=reordered: (
                f"{k} of {n} calls of {tool!r} with arguments also seen in the baseline got a "
                f"different response (baseline rate {r.details['baseline_change_rate']:.1%})"
                + (
                    f"; {reordered} of them differ only in list order (re-ranking)"
                    if reordered
                    else ""
                )
            ),
        )


def compare(
    baseline: BehaviourProfile, window: BehaviourProfile, settings: DriftSettings | None = None
) -> DriftReport:
    """Compare ``window`` with ``baseline``: every test, corrected together, sorted."""
    s = settings or DriftSettings()
    if baseline.settings.bow_buckets != window.settings.bow_buckets:
        raise InputError(
            f"window profile: settings.bow_buckets: {window.settings.bow_buckets} differs from "
            f"the baseline's {baseline.settings.bow_buckets}; rebuild with equal settings"
        )
    c = _Collector(s)
    _distributions(c, baseline, window)
    _numeric(c, baseline, window)
    _rates(c, baseline, window)
    _sequences(c, baseline, window)
    _responses(c, baseline, window)
    _tool_api(c, baseline, window)
    tested = [i for i, it in enumerate(c.items) if it.p_value is not None]
    adjusted = adjust_pvalues([c.items[i].p_value or 0.0 for i in tested], s.correction)
    for i, adj in zip(tested, adjusted, strict=True):
        it = c.items[i]
        c.items[i] = replace(
            it, adjusted_p=float(adj), drifted=bool(adj < s.alpha and it.score >= 1.0)
        )
    _structural(c, baseline, window)
    items = sorted(c.items, key=lambda it: (not it.drifted, -it.score, it.metric))
    return DriftReport(
        items=tuple(items),
        skipped=tuple(c.skipped),
        correction=s.correction,
        alpha=s.alpha,
        n_tests=len(tested),
        baseline_runs=baseline.n_runs,
        window_runs=window.n_runs,
    )
