"""Sampling by a hash of the run id: deterministic, so every replica and re-send agrees.

:func:`sampled_in` keeps a ``fraction`` of ids (a seed picks another subset of the same size);
:func:`keep_in_full` is the ingest rule: every failed run is kept, and a ``fraction`` of the
successful ones (docs/datasets.md).
"""

from __future__ import annotations

import hashlib

from agentdeck.core.trace.model import Outcome, Run, SpanStatus

_SCALE = float(2**64)


def unit_hash(trace_id: str, seed: str = "") -> float:
    """A number in [0, 1) from the SHA-256 of ``seed:trace_id``."""
    h = hashlib.sha256(f"{seed}:{trace_id}".encode()).digest()
    return int.from_bytes(h[:8], "big") / _SCALE


def sampled_in(trace_id: str, fraction: float, seed: str = "") -> bool:
    """Whether ``trace_id`` is among the ``fraction`` (0..1) of ids kept with ``seed``."""
    if fraction >= 1.0:
        return True
    if fraction <= 0.0:
        return False
    return unit_hash(trace_id, seed) < fraction


def failed(run: Run) -> bool:
    """A run that went wrong in any way sampling must never drop: an error status, a failure
    outcome, a failed or denied tool call."""
    return (
        run.status is SpanStatus.ERROR
        or run.outcome is Outcome.FAILURE
        or run.tool_errors > 0
        or run.denied_calls > 0
    )


def keep_in_full(run: Run, success_fraction: float) -> bool:
    """Whether ``run`` keeps its spans: always when it failed, else by its id's hash."""
    return failed(run) or sampled_in(run.trace_id, success_fraction, "sampling")
