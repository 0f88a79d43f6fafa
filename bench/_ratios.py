"""The one structure every benchmark reports its ratios in, for ``bench/run_all.py``.

A benchmark prints its own readable lines, then calls :func:`emit` once: one machine-readable
line, ``BENCH-RATIOS {json}``, with each ratio's name, value and goal. ``run_all.py`` runs each
benchmark several times and prints one table of min / median / max per ratio.

Clocks: where the measured work runs in this process, benchmarks time it in CPU seconds
(:func:`cpu` for the whole process, :func:`thread_cpu` for one thread): on a shared machine
wall-clock medians swing 3-4x with the neighbours' load, CPU time much less.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import asdict, dataclass

TAG = "BENCH-RATIOS "


@dataclass(frozen=True)
class Ratio:
    """One ratio measured against a baseline in the same run (``goal``: e.g. ``>= 0.5``)."""

    name: str
    value: float
    goal: str = ""


def emit(bench: str, *ratios: Ratio) -> None:
    """Print the machine-readable line ``run_all.py`` reads."""
    print(TAG + json.dumps({"bench": bench, "ratios": [asdict(r) for r in ratios]}), flush=True)


def parse(line: str) -> tuple[str, list[Ratio]] | None:
    """The bench name and ratios of an :func:`emit` line (None for any other line)."""
    if not line.startswith(TAG):
        return None
    data = json.loads(line[len(TAG) :])
    return data["bench"], [Ratio(**r) for r in data["ratios"]]


def cpu() -> float:
    """CPU seconds of this process (every thread, user + system)."""
    return time.process_time()


def thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds one (running) thread has used so far (Linux: its CPU-time clock)."""
    assert thread.ident is not None, "thread not started"
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))
