"""The demo's simulated hours: v1's production traffic generated in seconds, stamped as if it
had come in over the twelve hours before the demo, so that the monitors page draws a day's
curve (v1's calm hours, then v2's canary, live, in the last hour) instead of one five-minute
bucket. (The canary's traffic keeps real time: its judge reads the runs since it started.)

:class:`SimulatedHours` wraps the store the SDK writes to. Before each run the traffic loop
says when, on the simulated timeline, that run starts (:meth:`SimulatedHours.start_run`); each
run's spans (and its online evaluators' scores, written a moment later) are moved by the one
offset of their run, so they keep their real durations and order.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from agentdeck.core.trace.model import Run, Span

HOUR_NS = 3600 * 10**9


def timeline(now_ns: int, hours: int = 12) -> tuple[int, int, int]:
    """``(start, release, end)`` in ns: the simulated day is the ``hours`` before ``now_ns``,
    and v2 goes out on the whole hour that leaves it between ``hours / 2 - 1`` and ``hours / 2``
    hours (so every hourly bucket of a chart drawn right after the demo holds runs)."""
    start = now_ns - hours * HOUR_NS
    release = now_ns // HOUR_NS * HOUR_NS - (hours // 2 - 1) * HOUR_NS
    return start, release, now_ns


def spread(n: int, since_ns: int, until_ns: int, rng: Any) -> list[int]:
    """``n`` start times evenly over ``[since, until)``, each jittered within its slot."""
    slot = (until_ns - since_ns) / n
    return [int(since_ns + (i + 0.1 + 0.8 * rng.random()) * slot) for i in range(n)]


class SimulatedHours:
    """A store (or sink) whose writes are moved onto the simulated timeline."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._real: list[int] = []  # when each run started, really
        self._offsets: list[int] = []  # simulated minus real start, for each
        self._by_trace: dict[str, int] = {}

    def start_run(self, simulated_ns: int) -> None:
        """The next run (started after this call) starts at ``simulated_ns``."""
        now = time.time_ns()
        with self._lock:
            self._real.append(now)
            self._offsets.append(simulated_ns - now)

    def _offset(self, trace_id: str, real_ns: int) -> int:
        with self._lock:
            if trace_id not in self._by_trace:
                i = bisect.bisect_right(self._real, real_ns) - 1
                self._by_trace[trace_id] = self._offsets[i] if i >= 0 else 0
            return self._by_trace[trace_id]

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        first: dict[str, int] = {}
        for s in spans:
            first[s.trace_id] = min(first.get(s.trace_id, s.start_ns), s.start_ns)
        for r in runs:
            first[r.trace_id] = min(first.get(r.trace_id, r.start_ns), r.start_ns)
        off = {tid: self._offset(tid, t) for tid, t in sorted(first.items(), key=lambda x: x[1])}
        moved_runs = [
            replace(
                r,
                start_ns=r.start_ns + off[r.trace_id],
                end_ns=None if r.end_ns is None else r.end_ns + off[r.trace_id],
            )
            for r in runs
        ]
        moved_spans = [
            replace(s, start_ns=s.start_ns + off[s.trace_id], end_ns=s.end_ns + off[s.trace_id])
            for s in spans
        ]
        self.store.write_batch(moved_runs, moved_spans)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
