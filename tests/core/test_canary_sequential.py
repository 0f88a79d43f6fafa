"""The canary's sequential test: the normal mixture against numerical integration (scipy),
its boundary against a root-finder, its time-uniform error rate by simulation."""

from __future__ import annotations

import math
import random

import pytest
from scipy import integrate, optimize, stats

from agentdeck.core.deploy.sequential import compare, log_mixture, radius, rho2_for


@pytest.mark.parametrize(
    ("s", "sigma", "t", "rho2"), [(3.0, 1.0, 10, 0.1), (-40.0, 2.5, 400, 0.02), (0.0, 1.0, 50, 0.5)]
)
def test_mixture_is_the_gaussian_mixture_of_exponential_martingales(
    s: float, sigma: float, t: int, rho2: float
) -> None:
    # M = integral of exp(l * x - l^2 t / 2) over l ~ N(0, rho2), x = s / sigma
    x = s / sigma
    value, _ = integrate.quad(
        lambda lam: math.exp(lam * x - lam * lam * t / 2) * stats.norm.pdf(lam, 0, math.sqrt(rho2)),
        -math.inf,
        math.inf,
    )
    assert log_mixture(s, sigma, t, rho2) == pytest.approx(math.log(value), rel=1e-7, abs=1e-9)


@pytest.mark.parametrize(
    ("t", "sigma", "alpha"), [(100, 1.0, 0.05), (5000, 0.3, 0.005), (20, 4.0, 0.2)]
)
def test_radius_is_where_the_mixture_reaches_one_over_alpha(
    t: int, sigma: float, alpha: float
) -> None:
    rho2 = rho2_for(alpha, 500)
    root = optimize.brentq(
        lambda m: log_mixture(m * t, sigma, t, rho2) - math.log(1 / alpha), 1e-12, 1e6
    )
    assert radius(t, sigma, alpha, rho2) == pytest.approx(root, rel=1e-9)


def test_the_tuned_mixture_is_nearly_tightest_at_its_target_time() -> None:
    alpha, t_star = 0.01, 2000
    best = optimize.minimize_scalar(
        lambda r: radius(t_star, 1.0, alpha, math.exp(r)), bounds=(-20, 5), method="bounded"
    )
    assert radius(t_star, 1.0, alpha, rho2_for(alpha, t_star)) <= best.fun * 1.01


def test_the_always_valid_interval_is_wider_than_the_fixed_sample_one() -> None:
    alpha, rho2 = 0.05, rho2_for(0.05, 1000)
    z = stats.norm.ppf(1 - alpha / 2)
    for t in (10, 100, 1000, 10_000, 100_000):
        assert radius(t, 1.0, alpha, rho2) > z / math.sqrt(t)


def test_looking_after_every_run_keeps_the_error_rate_of_identical_arms_below_alpha() -> None:
    alpha, paths, wrong = 0.1, 300, 0
    for seed in range(paths):
        rng = random.Random(seed)
        obs = [(rng.random() < 0.2, 0.2, rng.gauss(0.0, 1.0)) for _ in range(1500)]
        for worse in (True, False):
            c = compare(obs, alpha=alpha, t_star=500, higher_is_worse=worse, min_runs=10)
            wrong += c.harm_at is not None
    # each direction is a one-sided look at a two-sided alpha sequence: <= alpha / 2 each
    assert wrong / (2 * paths) <= alpha / 2 + 0.02


def test_a_real_difference_is_found_and_estimated() -> None:
    rng = random.Random(7)
    obs = []
    for _ in range(20_000):
        cand = rng.random() < 0.1
        obs.append((cand, 0.1, float(rng.random() < (0.30 if cand else 0.20))))
    c = compare(obs, alpha=0.05, t_star=5000, higher_is_worse=True, min_runs=30)
    assert c.harm_at is not None
    assert c.lower < 0.10 < c.upper
    assert c.estimate == pytest.approx(0.10, abs=0.03)
    assert c.p_value < 0.05
    assert c.candidate.runs + c.stable.runs == 20_000


def test_the_share_may_change_between_runs() -> None:
    rng = random.Random(3)
    obs = []
    for i in range(30_000):
        p = 0.1 if i < 10_000 else 0.5
        cand = rng.random() < p
        obs.append((cand, p, rng.gauss(1.0 if cand else 0.0, 1.0)))
    c = compare(obs, alpha=0.05, t_star=5000, higher_is_worse=True)
    assert c.lower < 1.0 < c.upper and c.harm_at is not None


def test_a_margin_tolerates_that_much_harm() -> None:
    rng = random.Random(5)
    obs = [(c := rng.random() < 0.5, 0.5, rng.gauss(0.1 if c else 0.0, 0.2)) for _ in range(5000)]
    assert compare(obs, alpha=0.05, t_star=1000, higher_is_worse=True).harm_at is not None
    assert compare(obs, alpha=0.05, t_star=1000, higher_is_worse=True, margin=0.2).harm_at is None
