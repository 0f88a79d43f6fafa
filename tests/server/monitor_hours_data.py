"""Twelve hours of an agent's traffic for the monitors page: six calm hours (the baseline's
runs), then six hours of drifted behaviour (escalations, invalid arguments, errors); 24 runs an
hour, the last a second ago. (Ending at the last whole hour made the newest bucket of a window
that ends now hold only the minutes past the hour: a run or two, so its rates went by chance.)"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

from monitor_data import CALM, DRIFTED, tool_run

from agentdeck.monitor.profiles import create_baseline, select_runs
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec

HOUR = 3600 * 10**9


def seed_hours(store: SqlStore, per_hour: int = 24) -> int:
    """Write the runs and the ``calm`` baseline; returns when the incident started (ns)."""
    Registry(store).register_agent(make_spec("support-bot"), "test")
    end = time.time_ns() - 10**9
    incident = end - 6 * HOUR
    rng = random.Random(3)
    step = HOUR // per_hour
    runs = []
    for i in range(12 * per_hour):
        start = end - 12 * HOUR + i * step + step // 2
        bad = start >= incident
        runs.append(tool_run(rng, DRIFTED if bad else CALM, start,
                             error_p=0.3 if bad else 0.0, invalid_p=0.25 if bad else 0.0))  # fmt: skip
    store.write_batch([r for r, _ in runs], [s for _, spans in runs for s in spans])

    def dt(ns: int) -> datetime:
        return datetime.fromtimestamp(ns / 1e9, UTC)

    sel = select_runs(store, "support-bot", "production", dt(end - 12 * HOUR), dt(incident))
    create_baseline(store, "calm", sel, "test")
    return incident
