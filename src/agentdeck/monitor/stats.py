"""The statistical tests behind window drift checks (numpy; scipy imported lazily).

scipy costs ~0.7 s to import, so every function imports ``scipy.stats`` inside itself and
nothing here runs on the SDK path. Each test returns a :class:`TestResult`: the statistic, a
p-value and an effect size, so that the report can require both significance (after
multiple-testing correction) and a minimum effect.

- :func:`clustered_chi2`: chi-square test of homogeneity of two categorical distributions,
  with the second-order Rao-Scott correction for items clustered in runs (a run's tool calls
  are not independent draws); effect size: Jensen-Shannon distance (base 2, in [0, 1], scipy's
  ``jensenshannon``).
- :func:`two_proportions`: two-sided z test (Fisher's exact test for rare events);
  effect size: Cohen's h.
- :func:`ks_psi`: two-sample Kolmogorov-Smirnov; effect size: the KS distance D; the
  Population Stability Index on the baseline's deciles is reported alongside.
- :func:`binomial_excess`: one-sided exact binomial test that a rate exceeds an expected rate.
- :func:`adjust_pvalues`: Holm (family-wise error) or Benjamini-Hochberg (false discovery,
  scipy's ``false_discovery_control``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from agentdeck.core.behaviour.parts import CategoricalCounts

Correction = Literal["holm", "bh"]


@dataclass(frozen=True)
class TestResult:
    """One test's outcome. ``details`` holds secondary numbers (raw chi2, design effect, PSI)."""

    __test__ = False  # not a pytest test class

    statistic: float
    p_value: float
    effect: float
    details: Mapping[str, float] = field(default_factory=dict)
    top_changes: tuple[tuple[str, float, float], ...] = ()  # (category, baseline, window share)


def jensen_shannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (square root of the divergence, base 2) of two distributions
    (counts or shares): :func:`scipy.spatial.distance.jensenshannon`."""
    from scipy.spatial.distance import jensenshannon

    d = float(jensenshannon(np.asarray(p, dtype=float), np.asarray(q, dtype=float), base=2))
    return 0.0 if math.isnan(d) else d  # identical distributions can round to sqrt(-0.0)


def _share_cov(c: CategoricalCounts, keys: Sequence[str], p: np.ndarray) -> np.ndarray:
    """Cluster-robust covariance of the category shares (ratio estimator over runs).

    With e_r = x_r - p n_r the residual count vector of run r, Cov(p) = u/(u-1) *
    sum_r e_r e_r^T / N^2, expanded into the stored moments (sums of products, of x n, of n^2).
    """
    k = len(keys)
    if c.units < 2 or c.total == 0:
        return np.zeros((k, k))
    idx = {key: i for i, key in enumerate(keys)}
    xx = np.zeros((k, k))
    for key, v in c.sumsq.items():
        if key in idx:
            xx[idx[key], idx[key]] = v
    for (a, b), v in c.cross.items():
        if a in idx and b in idx:
            xx[idx[a], idx[b]] = xx[idx[b], idx[a]] = v
    xn = np.array([c.sumxn.get(key, 0) for key in keys], dtype=float)
    ee = xx - np.outer(p, xn) - np.outer(xn, p) + np.outer(p, p) * c.total_sq
    return ee * c.units / (c.units - 1) / float(c.total) ** 2


def clustered_chi2(
    base: CategoricalCounts, window: CategoricalCounts, min_expected: float = 5.0
) -> TestResult | None:
    """Chi-square homogeneity test of two clustered categorical samples (see module doc).

    Categories whose expected count is below ``min_expected`` on either side are pooled into
    one column. Items of one run are correlated (a refund run always calls ``refund`` and
    ``send_email`` once), so the Pearson statistic X^2 is corrected with the second-order
    Rao-Scott (Satterthwaite) method: with lambda the eigenvalues of P^-1 V (V the
    cluster-robust covariance of the difference of shares, P its multinomial counterpart
    under H0, both over K-1 free categories), mean delta and a^2 = var(lambda) / delta^2,
    X^2 / (delta (1 + a^2)) is referred to chi-square with (K-1) / (1 + a^2) degrees of
    freedom. ``None`` when there is nothing to test.
    """
    from scipy import stats

    keys = sorted(set(base.counts) | set(window.counts))
    if len(keys) < 2 or base.total == 0 or window.total == 0:
        return None
    a = np.array([base.counts.get(k, 0) for k in keys], dtype=float)
    b = np.array([window.counts.get(k, 0) for k in keys], dtype=float)
    na, nb = a.sum(), b.sum()
    pa, pb = a / na, b / nb
    expected_min = np.minimum(na, nb) * (a + b) / (na + nb)
    small = expected_min < min_expected
    big = np.flatnonzero(~small)
    groups = [[int(i)] for i in big] + ([list(np.flatnonzero(small))] if small.any() else [])
    merge = np.zeros((len(groups), len(keys)))
    for g, members in enumerate(groups):
        merge[g, members] = 1.0
    if len(groups) < 2:
        return None
    a2, b2 = merge @ a, merge @ b
    table = np.vstack([a2, b2])
    exp = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    chi2 = float(np.sum((table - exp) ** 2 / exp))
    cov = merge @ (_share_cov(base, keys, pa) + _share_cov(window, keys, pb)) @ merge.T
    pbar = (a2 + b2) / (na + nb)
    free = slice(0, len(groups) - 1)
    mult = (np.diag(pbar) - np.outer(pbar, pbar))[free, free] * (1 / na + 1 / nb)
    try:
        lam = np.clip(np.linalg.eigvals(np.linalg.solve(mult, cov[free, free])).real, 0, None)
    except np.linalg.LinAlgError:
        lam = np.ones(len(groups) - 1)
    delta = float(lam.mean())
    effect = jensen_shannon(a, b)
    order = np.argsort(-np.abs(pb - pa))
    top = tuple((keys[i], float(pa[i]), float(pb[i])) for i in order[:5] if pa[i] != pb[i])
    if delta <= 1e-12:
        return TestResult(0.0, 1.0, effect, {"chi2_raw": chi2, "design_effect": 0.0}, top)
    a_sq = float(lam.var()) / delta**2
    corrected = chi2 / (delta * (1 + a_sq))
    df = (len(groups) - 1) / (1 + a_sq)
    return TestResult(
        statistic=corrected,
        p_value=float(stats.chi2.sf(corrected, df)),
        effect=effect,
        details={"chi2_raw": chi2, "design_effect": delta, "df": df},
        top_changes=top,
    )


def cohen_h(p1: float, p2: float) -> float:
    """Cohen's h: |2 asin sqrt(p2) - 2 asin sqrt(p1)| (0.2 small, 0.5 medium, 0.8 large)."""
    return abs(2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1)))


def two_proportions(x1: int, n1: int, x2: int, n2: int, exact_below: float = 50.0) -> TestResult:
    """Two-sided test of x1/n1 against x2/n2; effect: Cohen's h.

    The pooled z test when every expected cell of the 2x2 table is at least ``exact_below``;
    otherwise Fisher's exact test (the normal tail is too light for rare events such as a 3%
    error rate on a few hundred runs, and would raise false alarms).
    """
    from scipy import stats

    p1, p2 = x1 / n1, x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    details = {"baseline": p1, "window": p2}
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return TestResult(0.0, 1.0, 0.0, details)
    z = (p2 - p1) / se
    if min(pooled, 1 - pooled) * min(n1, n2) < exact_below:
        table = [[x1, n1 - x1], [x2, n2 - x2]]
        p_value = float(stats.fisher_exact(table).pvalue)
    else:
        p_value = float(2 * stats.norm.sf(abs(z)))
    return TestResult(z, p_value, cohen_h(p1, p2), details)


def psi(base: np.ndarray, window: np.ndarray, bins: int = 10) -> float:
    """Population Stability Index of ``window`` against ``base`` on the base's quantile bins
    (shares floored at 1e-4); < 0.1 stable, 0.1-0.25 moderate, > 0.25 large by convention."""
    edges = np.unique(np.quantile(base, np.linspace(0, 1, bins + 1)[1:-1]))
    pb = np.bincount(np.searchsorted(edges, base, side="right"), minlength=len(edges) + 1)
    pw = np.bincount(np.searchsorted(edges, window, side="right"), minlength=len(edges) + 1)
    eb = np.maximum(pb / pb.sum(), 1e-4)
    ew = np.maximum(pw / pw.sum(), 1e-4)
    return float(np.sum((ew - eb) * np.log(ew / eb)))


def ks_psi(base: Sequence[float], window: Sequence[float]) -> TestResult:
    """Two-sample KS test (asymptotic p-value; conservative with ties) plus PSI."""
    from scipy import stats

    a = np.asarray(base, dtype=float)
    b = np.asarray(window, dtype=float)
    res = stats.ks_2samp(a, b, method="asymp")
    d = float(res.statistic)
    return TestResult(
        d,
        float(res.pvalue),
        d,
        {
            "psi": psi(a, b),
            "baseline_median": float(np.median(a)),
            "window_median": float(np.median(b)),
        },
    )


def binomial_excess(k: int, n: int, p0: float) -> TestResult:
    """One-sided exact binomial test that k of n exceeds rate ``p0``; effect: Cohen's h."""
    from scipy import stats

    p0 = min(max(p0, 1e-9), 1 - 1e-9)
    p_value = float(stats.binomtest(k, n, p0, alternative="greater").pvalue)
    rate = k / n
    return TestResult(rate, p_value, cohen_h(p0, rate), {"expected": p0, "observed": rate})


def adjust_pvalues(pvalues: Sequence[float], method: Correction = "holm") -> np.ndarray:
    """p-values adjusted across one report's family of tests.

    ``holm``: Holm-Bonferroni step-down, controls the family-wise error rate (the chance of
    any false alarm) under any dependence. ``bh``: Benjamini-Hochberg, controls the false
    discovery rate (more power with many tests; equal to FWER control when nothing drifted),
    as computed by :func:`scipy.stats.false_discovery_control`.
    """
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    if m == 0:
        return p
    if method == "bh":
        from scipy.stats import false_discovery_control

        return np.asarray(false_discovery_control(p, method="bh"), dtype=float)
    if method != "holm":
        raise ValueError(f"unknown correction {method!r}")
    order = np.argsort(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out
