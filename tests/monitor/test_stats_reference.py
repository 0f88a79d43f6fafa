"""monitor/stats.py against reference values: scipy's own functions where they compute the same
quantity, textbook definitions and published values otherwise."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats as sps
from scipy.spatial.distance import jensenshannon

from agentdeck.core.behaviour.parts import CategoricalCounts
from agentdeck.monitor import stats


def one_item_runs(counts: dict[str, int]) -> CategoricalCounts:
    """Counts of runs with one item each (no clustering: Rao-Scott reduces to Pearson)."""
    total = sum(counts.values())
    return CategoricalCounts(counts=counts, sumsq=dict(counts), sumxn=dict(counts), cross={},
                             units=total, total=total, total_sq=total)  # fmt: skip


@pytest.mark.parametrize("seed", range(5))
def test_jensen_shannon_matches_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    p, q = rng.integers(0, 50, 6).astype(float), rng.integers(1, 50, 6).astype(float)
    assert stats.jensen_shannon(p, q) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
    assert stats.jensen_shannon(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == pytest.approx(1.0)
    assert stats.jensen_shannon(p + 1, p + 1) == pytest.approx(0.0, abs=1e-7)


def test_clustered_chi2_without_clustering_is_pearsons_chi2() -> None:
    base = {"lookup": 400, "refund": 300, "email": 300}
    window = {"lookup": 330, "refund": 390, "email": 280}
    got = stats.clustered_chi2(one_item_runs(base), one_item_runs(window))
    assert got is not None
    table = np.array([list(base.values()), list(window.values())])
    ref = sps.chi2_contingency(table, correction=False)
    assert got.details["chi2_raw"] == pytest.approx(ref.statistic, rel=1e-12)
    # One item per run: the design effect is ~1 (u/(u-1) and sample vs pooled shares aside).
    assert got.details["design_effect"] == pytest.approx(1.0, abs=0.02)
    assert got.statistic == pytest.approx(ref.statistic, rel=0.02)
    assert got.p_value == pytest.approx(ref.pvalue, rel=0.1)
    assert got.effect == pytest.approx(jensenshannon(table[0], table[1], base=2))


def test_clustered_chi2_discounts_items_that_come_in_pairs() -> None:
    # Every run has two items of the same category: half as much information as Pearson assumes.
    def paired(counts: dict[str, int]) -> CategoricalCounts:
        runs = sum(counts.values()) // 2
        return CategoricalCounts(counts=counts, sumsq={k: 2 * v for k, v in counts.items()},
                                 sumxn={k: 2 * v for k, v in counts.items()}, cross={},
                                 units=runs, total=2 * runs, total_sq=4 * runs)  # fmt: skip

    base, window = {"a": 400, "b": 600}, {"a": 460, "b": 540}
    got = stats.clustered_chi2(paired(base), paired(window))
    assert got is not None
    assert got.details["design_effect"] == pytest.approx(2.0, rel=0.02)
    ref = sps.chi2_contingency([[200, 300], [230, 270]], correction=False)  # the runs as items
    assert got.statistic == pytest.approx(ref.statistic, rel=0.02)


def test_two_proportions_z_test_matches_chi2_contingency() -> None:
    got = stats.two_proportions(120, 1000, 165, 1000)
    ref = sps.chi2_contingency([[120, 880], [165, 835]], correction=False)
    assert got.statistic**2 == pytest.approx(ref.statistic, rel=1e-12)
    assert got.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    h = abs(2 * np.arcsin(np.sqrt(0.165)) - 2 * np.arcsin(np.sqrt(0.12)))
    assert got.effect == pytest.approx(h)


def test_two_proportions_rare_events_use_fishers_exact_test() -> None:
    got = stats.two_proportions(3, 4, 1, 4, exact_below=50)
    assert got.p_value == pytest.approx(0.4857142857142857)  # Fisher's lady tasting tea
    assert got.p_value == pytest.approx(sps.fisher_exact([[3, 1], [1, 3]]).pvalue)


def test_ks_psi_matches_ks_2samp_and_the_psi_formula() -> None:
    rng = np.random.default_rng(7)
    a, b = rng.normal(0, 1, 500), rng.normal(0.3, 1, 400)
    got = stats.ks_psi(a, b)
    ref = sps.ks_2samp(a, b, method="asymp")
    assert got.statistic == pytest.approx(ref.statistic) and got.p_value == pytest.approx(
        ref.pvalue
    )
    edges = np.quantile(a, np.linspace(0, 1, 11)[1:-1])
    eb = np.maximum(np.histogram(a, [-np.inf, *edges, np.inf])[0] / len(a), 1e-4)
    ew = np.maximum(np.histogram(b, [-np.inf, *edges, np.inf])[0] / len(b), 1e-4)
    assert got.details["psi"] == pytest.approx(float(np.sum((ew - eb) * np.log(ew / eb))), rel=1e-9)


def test_binomial_excess_is_the_upper_binomial_tail() -> None:
    got = stats.binomial_excess(9, 100, 0.04)
    assert got.p_value == pytest.approx(float(sps.binom.sf(8, 100, 0.04)), rel=1e-9)


P = [0.01, 0.04, 0.03, 0.005, 0.20, 0.049]


def test_benjamini_hochberg_matches_scipy_false_discovery_control() -> None:
    got = stats.adjust_pvalues(P, "bh")
    np.testing.assert_allclose(got, sps.false_discovery_control(P, method="bh"), rtol=1e-12)


def test_holm_matches_its_definition() -> None:
    order = np.argsort(P)
    m, ref, running = len(P), np.empty(len(P)), 0.0
    for rank, i in enumerate(order):  # step-down: max over the ranks so far of (m - rank) p
        running = max(running, (m - rank) * P[i])
        ref[i] = min(running, 1.0)
    np.testing.assert_allclose(stats.adjust_pvalues(P, "holm"), ref, rtol=1e-12)
    np.testing.assert_allclose(stats.adjust_pvalues(P, "holm")[order[0]], 0.03)  # 6 x 0.005


def test_importing_the_monitor_does_not_import_scipy() -> None:
    code = "import sys, agentdeck.monitor.drift, agentdeck.monitor.stats; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
