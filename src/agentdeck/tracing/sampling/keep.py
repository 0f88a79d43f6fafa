"""Applying ingest sampling to stored runs (the server's after-ingest worker calls it).

The rule is :func:`agentdeck.core.annotations.sampling.keep_in_full`: a run that failed in
any way keeps its spans; a successful one keeps them when the hash of its id falls in the
env's fraction (``sampling.success_fraction`` in the env's gate settings, else
``AGENTDECK_SAMPLING_SUCCESS_FRACTION``). A run that does not keep them loses its spans and
context-window messages but keeps its row in ``runs`` (agent, version, env, status, outcome,
input, output, counts) and its monitoring summary, which the per-run checks wrote first.
Unfinished and provisional runs are left alone: their outcome is not known yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from agentdeck.core.annotations.sampling import keep_in_full
from agentdeck.core.trace.model import Run
from agentdeck.store.protocol import AnnotationStore, DeploymentStore


class SamplingStore(AnnotationStore, DeploymentStore, Protocol):
    """Runs to judge and span payloads to drop, env settings to read the fraction from."""


def env_fraction(settings: Mapping[str, Any], default: float) -> float:
    """An env's ``sampling.success_fraction`` gate setting, else ``default`` (a bad value is
    ignored: sampling never drops more than asked)."""
    raw = settings.get("sampling")
    value = raw.get("success_fraction") if isinstance(raw, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        return default
    return float(value)


def _any_env_samples(store: SamplingStore) -> bool:
    """Whether an environment sets a ``sampling.success_fraction`` below 1."""
    return any(
        env_fraction(store.get_gate_config(env).settings, 1.0) < 1.0
        for env in store.get_promotion_path()
    )


def apply_sampling(
    store: SamplingStore,
    trace_ids: Sequence[str],
    default_fraction: float,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """Drop the span payloads of the finished, successful runs of ``trace_ids`` sampled out;
    returns how many runs lost them."""
    if default_fraction >= 1.0 and not _any_env_samples(store):
        return 0  # nothing to drop: no run is read
    by_env: dict[str | None, float] = {}

    def fraction(run: Run) -> float:
        if run.env not in by_env:
            cfg = store.get_gate_config(run.env) if run.env else None
            by_env[run.env] = env_fraction(cfg.settings if cfg else {}, default_fraction)
        return by_env[run.env]

    drop: dict[float, list[str]] = {}
    for run in store.sampling_view(trace_ids):  # finished runs, read in one query a chunk
        if run.provisional:
            continue
        f = fraction(run)
        if f >= 1.0 or keep_in_full(run, f):
            continue
        drop.setdefault(f, []).append(run.trace_id)
    for f, ids in drop.items():
        store.drop_span_payloads(ids, f, now())
    return sum(len(ids) for ids in drop.values())
