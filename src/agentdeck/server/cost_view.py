"""The monitors page's cost chart: an agent's spend over time, per version.

The chart's range is split into the same buckets as the behaviour charts; each bucket is one
grouped query of the runs table (``cost_totals`` by version over the bucket's start times),
so it never reads spans.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agentdeck.store.protocol import CostStore

__all__ = ["cost_series"]


def cost_series(
    store: CostStore, agent: str, env: str | None, now: datetime, span: timedelta, buckets: int
) -> dict[str, Any]:
    """``{"times": [...], "versions": ["bot@1", ...], "cost": {version: [usd or None]},
    "runs": {version: [n]}, "unpriced": n}``: per bucket, what each version spent (None where
    it had no run)."""
    step = span / buckets
    start = now - span
    times: list[float] = []
    per_bucket: list[dict[str, tuple[float | None, int]]] = []
    unpriced = 0
    for i in range(buckets):
        lo, hi = start + step * i, start + step * (i + 1)
        times.append(lo.timestamp())
        rows = store.cost_totals(
            "version",
            agent_name=agent,
            env=env,
            since_ns=int(lo.timestamp() * 1e9),
            until_ns=int(hi.timestamp() * 1e9),
        )
        per_bucket.append({r.key or "?": (r.cost_usd, r.runs) for r in rows})
        unpriced += sum(r.unpriced_calls for r in rows)
    versions = sorted(
        {v for b in per_bucket for v in b},
        key=lambda v: (len(v), v),  # bot@2 before bot@10
    )
    return {
        "times": times,
        "versions": versions,
        "cost": {v: [b[v][0] if v in b else None for b in per_bucket] for v in versions},
        "runs": {v: [b[v][1] if v in b else 0 for b in per_bucket] for v in versions},
        "unpriced": unpriced,
    }
