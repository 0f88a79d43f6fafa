"""An always-valid comparison of two arms: a normal-mixture confidence sequence.

The canary sends each run to the candidate with a known probability ``p`` (the share in force
when the run was assigned) and measures ``y`` on it (an error flag, a cost, a score). Each run
gives the inverse-propensity increment (Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas 2021,
"Time-uniform central limit theory and asymptotic confidence sequences", section on
sequential A/B tests)::

    z_i = (c_i / p_i - (1 - c_i) / (1 - p_i)) * (y_i - m_{i-1})

where ``c_i`` is 1 for the candidate and ``m_{i-1}`` the mean of ``y`` over the runs before
``i`` (a predictable centre: it lowers the variance and leaves ``E[z_i | past] = theta``, the
candidate's mean minus the stable one's, because the arm is drawn independently of the past).
The ``z_i`` are independent given the past with mean ``theta``, whatever the share does
between steps, so ``S_t = sum(z_i - theta)`` is a martingale.

On ``S_t`` we use Robbins' normal mixture (the mixture SPRT of Johari, Pekelis and Walsh
2017, "Always valid inference"; the boundary of Howard, Ramdas, McAuliffe and Sekhon 2021,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", eq. (14)) in its
asymptotic form, with the empirical variance ``sigma_t^2`` of the ``z_i``::

    M_t = (t rho^2 + 1)^(-1/2) * exp(rho^2 (S_t / sigma_t)^2 / (2 (t rho^2 + 1)))

The always-valid p-value is ``min(1, 1 / max_{s <= t} M_s)``, and the confidence sequence is
``mean(z) +- sigma_t * sqrt(2 (t rho^2 + 1) / (t^2 rho^2) * log(sqrt(t rho^2 + 1) / alpha))``:
``P(exists t: theta not in C_t) <= alpha`` (asymptotically), so the sequence can be looked at
after every run and acted on at any time. ``rho`` is tuned so the bound is tightest at
``t_star`` runs: ``rho^2 = (-2 log alpha + log(-2 log alpha + 1)) / t_star``.

Pure Python (no numpy): a canary compares a few thousand runs per metric.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "ArmStats",
    "Comparison",
    "compare",
    "log_mixture",
    "radius",
    "rho2_for",
]


def rho2_for(alpha: float, t_star: float) -> float:
    """The mixture precision that makes the boundary tightest at ``t_star`` runs."""
    if not 0 < alpha < 1 or t_star <= 0:
        raise ValueError("alpha must be in (0, 1) and t_star positive")
    a = -2.0 * math.log(alpha)
    return (a + math.log(a + 1.0)) / t_star


def log_mixture(s: float, sigma: float, t: int, rho2: float) -> float:
    """``log M_t`` for a sum ``s`` of ``t`` increments with standard deviation ``sigma``."""
    if t <= 0 or sigma <= 0:
        return 0.0
    v = t * rho2 + 1.0
    return -0.5 * math.log(v) + rho2 * (s / sigma) ** 2 / (2.0 * v)


def radius(t: int, sigma: float, alpha: float, rho2: float) -> float:
    """Half-width of the confidence sequence on the mean of ``t`` increments."""
    if t <= 0:
        return math.inf
    v = t * rho2 + 1.0
    return sigma * math.sqrt(2.0 * v / (t * t * rho2) * math.log(math.sqrt(v) / alpha))


@dataclass(frozen=True)
class ArmStats:
    runs: int
    mean: float | None


@dataclass(frozen=True)
class Comparison:
    """The state of one metric's sequential comparison after ``t`` runs.

    ``estimate`` and ``[lower, upper]`` are for candidate minus stable; ``p_value`` is the
    always-valid p-value of "no difference"; ``harm_at`` is the run count at which the
    sequence first lay wholly on the harmful side of ``margin`` (None: never)."""

    t: int
    candidate: ArmStats
    stable: ArmStats
    estimate: float | None
    lower: float
    upper: float
    p_value: float
    harm_at: int | None


class _Welford:
    __slots__ = ("m2", "mean", "n")

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, x: float) -> None:
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    @property
    def var(self) -> float:
        return self.m2 / (self.n - 1) if self.n > 1 else 0.0


def compare(
    observations: Iterable[tuple[bool, float, float]],
    *,
    alpha: float,
    t_star: float,
    higher_is_worse: bool,
    margin: float = 0.0,
    min_runs: int = 1,
) -> Comparison:
    """Compare arms over ``(is_candidate, p, y)`` in arrival order; ``p`` in (0, 1) is the
    candidate's share when the run was assigned. Harm is looked for at every run once each arm
    has ``min_runs``; ``margin`` is the difference (in ``y``'s unit) tolerated before harm."""
    rho2 = rho2_for(alpha, t_star)
    z = _Welford()
    pooled = cand = stab = 0.0
    n_c = n_s = 0
    s = 0.0
    best = 0.0  # max log M so far
    harm_at: int | None = None
    for is_cand, p, y in observations:
        if not 0.0 < p < 1.0:
            continue
        centre = pooled / (n_c + n_s) if n_c + n_s else 0.0
        w = 1.0 / p if is_cand else -1.0 / (1.0 - p)
        zi = w * (y - centre)
        z.add(zi)
        s += zi
        pooled += y
        if is_cand:
            n_c, cand = n_c + 1, cand + y
        else:
            n_s, stab = n_s + 1, stab + y
        sigma = math.sqrt(z.var)
        if z.n < 2 or sigma <= 0.0:
            continue
        best = max(best, log_mixture(s, sigma, z.n, rho2))
        if harm_at is None and n_c >= min_runs and n_s >= min_runs:
            r = radius(z.n, sigma, alpha, rho2)
            mean = s / z.n
            if (mean - r > margin) if higher_is_worse else (mean + r < -margin):
                harm_at = z.n
    t = z.n
    sigma = math.sqrt(z.var)
    r = radius(t, sigma, alpha, rho2) if t >= 2 and sigma > 0 else math.inf
    est = s / t if t else None
    return Comparison(
        t=t,
        candidate=ArmStats(n_c, cand / n_c if n_c else None),
        stable=ArmStats(n_s, stab / n_s if n_s else None),
        estimate=est,
        lower=(est - r) if est is not None else -math.inf,
        upper=(est + r) if est is not None else math.inf,
        p_value=min(1.0, math.exp(-best)),
        harm_at=harm_at,
    )
