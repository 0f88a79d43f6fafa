"""The building blocks of a behaviour profile: bounded, streaming, JSON-serializable.

- :class:`CategoricalCounts`: counts per category, plus per-run sums of squares and of
  count x run size, so a test can measure how clustered the counts are within runs (the
  Rao-Scott design effect used by ``agentdeck.monitor.stats``).
- :class:`NumericSummary`: count, sum, min, max and a uniform reservoir sample (Vitter's
  algorithm R), from which quantiles, KS and PSI are computed.
- :class:`ResponseSketch`: a bottom-k sample of a tool's distinct argument digests with their
  response digests. Bottom-k on a hash keeps the *same* argument keys in any two profiles
  that saw them, so a baseline and a window overlap as much as their bounded sizes allow.
- :class:`TransitionModel`: the smoothed first-order model of action sequences.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

START = "<start>"
END = "<end>"
UNKNOWN = "<unknown>"


def pair_key(prev: str, nxt: str) -> str:
    """The category key of the transition ``prev -> nxt`` (a JSON pair: unambiguous)."""
    return orjson.dumps([prev, nxt]).decode()


def parse_pair(key: str) -> tuple[str, str]:
    a, b = orjson.loads(key)
    return str(a), str(b)


@dataclass(frozen=True, slots=True)
class CategoricalCounts:
    """Counts per category over ``units`` runs, with the moments a clustered test needs.

    For categories k, l and run r with x_rk items of k among n_r items: ``counts[k]`` =
    sum x_rk, ``sumsq[k]`` = sum x_rk^2, ``sumxn[k]`` = sum x_rk n_r, ``cross[(k, l)]`` =
    sum x_rk x_rl for k < l (only pairs that co-occurred in a run); ``total`` = sum n_r,
    ``total_sq`` = sum n_r^2. From these the cluster-robust covariance of the category
    shares follows exactly (see ``agentdeck.monitor.stats.clustered_chi2``).
    """

    counts: Mapping[str, int]
    sumsq: Mapping[str, int]
    sumxn: Mapping[str, int]
    cross: Mapping[tuple[str, str], int]
    units: int
    total: int
    total_sq: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "total": self.total,
            "total_sq": self.total_sq,
            "counts": {
                k: [c, self.sumsq[k], self.sumxn[k]] for k, c in sorted(self.counts.items())
            },
            "cross": {pair_key(*k): v for k, v in sorted(self.cross.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoricalCounts:
        rows = d["counts"]
        return cls(
            counts={k: int(v[0]) for k, v in rows.items()},
            sumsq={k: int(v[1]) for k, v in rows.items()},
            sumxn={k: int(v[2]) for k, v in rows.items()},
            cross={parse_pair(k): int(v) for k, v in d["cross"].items()},
            units=int(d["units"]),
            total=int(d["total"]),
            total_sq=int(d["total_sq"]),
        )

    def share(self, key: str) -> float:
        return self.counts.get(key, 0) / self.total if self.total else 0.0


class _CategoricalAcc:
    """Sparse accumulator: for runs with few distinct categories (tools, transitions)."""

    __slots__ = ("counts", "cross", "sumsq", "sumxn", "total", "total_sq", "units")

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.sumsq: dict[str, int] = {}
        self.sumxn: dict[str, int] = {}
        self.cross: dict[tuple[str, str], int] = {}
        self.units = 0
        self.total = 0
        self.total_sq = 0

    def add_unit(self, unit: Mapping[str, int]) -> None:
        n = sum(unit.values())
        counts, sumsq, sumxn, cross = self.counts, self.sumsq, self.sumxn, self.cross
        self.units += 1
        self.total += n
        self.total_sq += n * n
        items = sorted(unit.items()) if len(unit) > 1 else list(unit.items())
        for i, (k, c) in enumerate(items):
            counts[k] = counts.get(k, 0) + c
            sumsq[k] = sumsq.get(k, 0) + c * c
            sumxn[k] = sumxn.get(k, 0) + c * n
            for k2, c2 in items[i + 1 :]:
                cross[(k, k2)] = cross.get((k, k2), 0) + c * c2

    def freeze(self) -> CategoricalCounts:
        keys = sorted(self.counts)
        return CategoricalCounts(
            counts={k: self.counts[k] for k in keys},
            sumsq={k: self.sumsq[k] for k in keys},
            sumxn={k: self.sumxn[k] for k in keys},
            cross=dict(sorted(self.cross.items())),
            units=self.units,
            total=self.total,
            total_sq=self.total_sq,
        )


class _DenseCategoricalAcc:
    """Dense numpy accumulator for a fixed number of buckets (hashed bag of words).

    Vectors are buffered and folded in blocks (one matrix product per block), which keeps
    the per-run cost to appending a tuple.
    """

    __slots__ = ("buffer", "counts", "cross", "sumxn", "total", "total_sq", "units")

    _BLOCK = 512

    def __init__(self, size: int) -> None:
        self.counts = np.zeros(size, dtype=np.int64)
        self.sumxn = np.zeros(size, dtype=np.int64)
        self.cross = np.zeros((size, size), dtype=np.int64)
        self.buffer: list[Sequence[int]] = []
        self.units = 0
        self.total = 0
        self.total_sq = 0

    def add_vector(self, x: Sequence[int]) -> None:
        self.buffer.append(x)
        if len(self.buffer) >= self._BLOCK:
            self._flush()

    def _flush(self) -> None:
        if not self.buffer:
            return
        m = np.asarray(self.buffer, dtype=np.int64)
        self.buffer = []
        n = m.sum(axis=1)
        self.counts += m.sum(axis=0)
        self.sumxn += n @ m
        self.cross += m.T @ m
        self.units += len(n)
        self.total += int(n.sum())
        self.total_sq += int((n * n).sum())

    def freeze(self) -> CategoricalCounts:
        self._flush()
        keys = [str(i) for i in range(len(self.counts))]
        nz = [i for i in range(len(keys)) if self.counts[i]]
        order = sorted(nz, key=lambda i: keys[i])
        cross = {}
        for a_pos, i in enumerate(order):
            for j in order[a_pos + 1 :]:
                if self.cross[i, j]:
                    cross[(keys[i], keys[j])] = int(self.cross[i, j])
        return CategoricalCounts(
            counts={keys[i]: int(self.counts[i]) for i in order},
            sumsq={keys[i]: int(self.cross[i, i]) for i in order},
            sumxn={keys[i]: int(self.sumxn[i]) for i in order},
            cross=cross,
            units=self.units,
            total=self.total,
            total_sq=self.total_sq,
        )


@dataclass(frozen=True, slots=True)
class NumericSummary:
    """Exact count, sum, min and max of a numeric feature, and a bounded uniform sample."""

    count: int
    total: float
    minimum: float
    maximum: float
    sample: tuple[float, ...]

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    def quantiles(self, qs: Sequence[float] = (0.5, 0.9, 0.99)) -> dict[float, float]:
        """Quantiles estimated from the sample (exact while count <= the reservoir size)."""
        if not self.sample:
            return {q: math.nan for q in qs}
        vals = np.quantile(np.asarray(self.sample, dtype=float), list(qs))
        return {q: float(v) for q, v in zip(qs, vals, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "total": self.total,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "sample": list(self.sample),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NumericSummary:
        return cls(
            count=int(d["count"]),
            total=float(d["total"]),
            minimum=float(d["minimum"]),
            maximum=float(d["maximum"]),
            sample=tuple(float(x) for x in d["sample"]),
        )


class _Reservoir:
    """Algorithm R: after n items each has been kept with probability size/n."""

    __slots__ = ("count", "items", "maximum", "minimum", "rng", "size", "total")

    def __init__(self, size: int, rng: random.Random) -> None:
        self.size = size
        self.rng = rng
        self.items: list[Any] = []
        self.count = 0
        self.total = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf

    def add_item(self, item: Any) -> None:
        self.count += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            j = int(self.rng.random() * self.count)
            if j < self.size:
                self.items[j] = item

    def add(self, x: float) -> None:
        self.add_item(x)
        self.total += x
        if x < self.minimum:
            self.minimum = x
        if x > self.maximum:
            self.maximum = x

    def summary(self) -> NumericSummary:
        if not self.count:
            return NumericSummary(0, 0.0, 0.0, 0.0, ())
        return NumericSummary(
            self.count, self.total, self.minimum, self.maximum, tuple(float(x) for x in self.items)
        )


@dataclass(frozen=True, slots=True)
class ResponseSketch:
    """Bottom-k sample of one tool's argument digests -> (response digest, digest with every
    list sorted), plus how often an argument key repeated and with a different response.

    ``repeat_reordered`` counts repeats whose response differed only in list order.
    """

    entries: Mapping[str, tuple[str, str]]
    repeats: int
    repeat_diff: int
    repeat_reordered: int
    capacity: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "repeats": self.repeats,
            "repeat_diff": self.repeat_diff,
            "repeat_reordered": self.repeat_reordered,
            "entries": {k: list(v) for k, v in sorted(self.entries.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ResponseSketch:
        return cls(
            entries={k: (str(v[0]), str(v[1])) for k, v in d["entries"].items()},
            repeats=int(d["repeats"]),
            repeat_diff=int(d["repeat_diff"]),
            repeat_reordered=int(d["repeat_reordered"]),
            capacity=int(d["capacity"]),
        )


class _SketchAcc:
    __slots__ = ("capacity", "entries", "repeat_diff", "repeat_reordered", "repeats", "threshold")

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.entries: dict[str, tuple[str, str]] = {}
        self.threshold: str | None = None  # keys above it can never make the bottom k
        self.repeats = 0
        self.repeat_diff = 0
        self.repeat_reordered = 0

    def add(self, args_key: str, response: str, unordered: str) -> None:
        if self.threshold is not None and args_key > self.threshold:
            return
        seen = self.entries.get(args_key)
        if seen is not None:
            self.repeats += 1
            if seen[0] != response:
                self.repeat_diff += 1
                self.repeat_reordered += seen[1] == unordered
            return
        self.entries[args_key] = (response, unordered)
        if len(self.entries) > 2 * self.capacity:
            self._prune()

    def _prune(self) -> None:
        keep = sorted(self.entries)[: self.capacity]
        self.entries = {k: self.entries[k] for k in keep}
        self.threshold = keep[-1]

    def freeze(self) -> ResponseSketch:
        if len(self.entries) > self.capacity:
            self._prune()
        return ResponseSketch(
            dict(sorted(self.entries.items())),
            self.repeats,
            self.repeat_diff,
            self.repeat_reordered,
            self.capacity,
        )


@dataclass(frozen=True)
class TransitionModel:
    """First-order Markov model of actions with add-alpha smoothing.

    P(next | prev) = (c(prev, next) + alpha) / (c(prev) + alpha * |targets|), where targets
    are the known tools, ``<end>`` and one ``<unknown>`` slot (any tool not in the baseline).
    A previous state never seen (an unknown tool) gives the uniform distribution.
    :meth:`score` is the mean negative log-probability per transition of ``<start>``, the
    actions, ``<end>``: length-normalized, so long runs are not improbable merely for being
    long (the step-count check covers length).
    """

    states: tuple[str, ...]
    targets: tuple[str, ...]
    logp: np.ndarray  # (len(states) + 1, len(targets)); the last row is the unknown state
    alpha: float
    _si: dict[str, int] = field(init=False, repr=False, compare=False)
    _ti: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_si", {s: i for i, s in enumerate(self.states)})
        object.__setattr__(self, "_ti", {t: i for i, t in enumerate(self.targets)})

    @classmethod
    def from_counts(cls, transitions: Mapping[str, int], alpha: float) -> TransitionModel:
        pairs = [(parse_pair(k), c) for k, c in transitions.items()]
        tools = sorted(
            {p for (p, _), _ in pairs if p != START} | {n for (_, n), _ in pairs if n != END}
        )
        states = (START, *tools)
        targets = (*tools, END, UNKNOWN)
        si = {s: i for i, s in enumerate(states)}
        ti = {t: i for i, t in enumerate(targets)}
        counts = np.zeros((len(states) + 1, len(targets)))
        for (p, n), c in pairs:
            counts[si[p], ti[n]] += c
        probs = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * len(targets))
        return cls(states, targets, np.log(probs), alpha)

    def logprob(self, prev: str, nxt: str) -> float:
        i = self._si.get(prev, len(self.states))
        j = self._ti.get(nxt, len(self.targets) - 1)
        return float(self.logp[i, j])

    def score(self, actions: Sequence[str]) -> float:
        """Mean negative log-probability (nats) per transition of a run's action sequence."""
        return float(self.scores([actions])[0])

    def scores(self, sequences: Iterable[Sequence[str]]) -> np.ndarray:
        """:meth:`score` of many sequences at once (one gather and one segmented sum)."""
        si, ti = self._si, self._ti
        unk_s, unk_t, end = len(self.states), len(self.targets) - 1, ti[END]
        rows: list[int] = []
        cols: list[int] = []
        starts: list[int] = []
        for actions in sequences:
            starts.append(len(rows))
            rows.append(0)
            rows.extend(si.get(a, unk_s) for a in actions)
            cols.extend(ti.get(a, unk_t) for a in actions)
            cols.append(end)
        if not starts:
            return np.zeros(0)
        lp = self.logp[np.asarray(rows), np.asarray(cols)]
        idx = np.asarray(starts)
        lengths = np.diff(np.append(idx, len(rows)))
        result: np.ndarray = -np.add.reduceat(lp, idx) / lengths
        return result

    def threshold(self, sample: Sequence[Sequence[str]], quantile: float) -> float:
        """The ``quantile`` of the sample's scores (``inf`` for an empty sample)."""
        if not sample:
            return math.inf
        return float(np.quantile(self.scores(sample), quantile))
