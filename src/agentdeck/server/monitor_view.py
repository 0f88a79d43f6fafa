"""The monitors page's data: an agent's behaviour over time, bucket by bucket.

For a time range split into equal buckets, each bucket's runs (their stored summaries, back-filled
from spans once when missing) are folded into a behaviour profile with the baseline's settings;
from it come the tool-selection mix (share of calls per tool), the argument validity, completion
and error rates, and, against the latest baseline of the agent and env, a drift score: the
largest effect / minimum-effect ratio among the items that drifted (significant after
correction and large enough; :func:`agentdeck.monitor.drift.compare`), 0 when none did, which
is the value the ``drift`` alert metric reads, and the number of drifted items.

The profiles are built from summaries (never raw spans), one indexed query per bucket, so a
page over a few thousand runs renders in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agentdeck.core.behaviour.profile import BehaviourProfile, ProfileBuilder
from agentdeck.core.behaviour.records import BaselineRecord
from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.monitor.drift import compare
from agentdeck.monitor.profiles import (
    ProfileStore,
    RunSelection,
    backfill_summaries,
    latest_baseline,
)
from agentdeck.monitor.summary import view_from_summary

MAX_BUCKETS = 200


@dataclass(frozen=True)
class MonitorSeries:
    """Aligned series, one value per bucket (``None`` where a bucket has no data)."""

    agent: str
    env: str | None
    since: datetime
    until: datetime
    bucket_s: float
    times: tuple[float, ...]  # bucket starts, seconds since the epoch
    runs: tuple[int, ...]
    tools: tuple[str, ...]
    tool_share: dict[str, list[float | None]]
    validity: tuple[float | None, ...]
    completion: tuple[float | None, ...]
    errors: tuple[float | None, ...]
    drift_score: tuple[float | None, ...]
    drifted_items: tuple[int | None, ...]
    baseline: BaselineRecord | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON the page's charts read."""
        return {
            "agent": self.agent,
            "env": self.env,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "bucket_s": self.bucket_s,
            "times": list(self.times),
            "runs": list(self.runs),
            "tools": list(self.tools),
            "tool_share": self.tool_share,
            "validity": list(self.validity),
            "completion": list(self.completion),
            "errors": list(self.errors),
            "drift_score": list(self.drift_score),
            "drifted_items": list(self.drifted_items),
            "baseline": self.baseline.name if self.baseline else None,
        }


def _bucket_profile(
    store: ProfileStore, agent: str, env: str | None, start_ns: int, end_ns: int, base: Any
) -> BehaviourProfile:
    builder = ProfileBuilder(base)
    for text in store.iter_run_summaries(agent, env, start_ns, end_ns):
        builder.add(view_from_summary(text))
    return builder.finish()


def monitor_series(
    store: ProfileStore,
    agent: str,
    env: str | None,
    until: datetime,
    window: timedelta,
    buckets: int = 12,
) -> MonitorSeries:
    """``agent``'s runs in ``env`` over ``[until - window, until)``, in ``buckets`` buckets."""
    buckets = max(1, min(buckets, MAX_BUCKETS))
    since = until - window
    backfill_summaries(store, RunSelection(agent, None, env, since, until))
    try:
        rec: BaselineRecord | None
        rec, base = latest_baseline(store, agent, env)
    except UnresolvedReferenceError:
        rec, base = None, None
    step_ns = int(window.total_seconds() * 1e9) // buckets
    start_ns = int(since.timestamp() * 1e9)
    profiles = [
        _bucket_profile(
            store,
            agent,
            env,
            start_ns + i * step_ns,
            start_ns + (i + 1) * step_ns,
            base.settings if base else None,
        )
        for i in range(buckets)
    ]
    tools = sorted({t for p in profiles for t in p.tool_calls.counts})
    share: dict[str, list[float | None]] = {t: [] for t in tools}
    validity: list[float | None] = []
    completion: list[float | None] = []
    errors: list[float | None] = []
    score: list[float | None] = []
    drifted: list[int | None] = []
    for p in profiles:
        has = p.n_runs > 0
        freq = p.tool_frequencies()
        for t in tools:
            share[t].append(freq.get(t, 0.0) if freq else None)
        validity.append(p.validity_rate() if has else None)
        completion.append(p.completion_rate if has else None)
        errors.append(p.error_rate if has else None)
        if has and base is not None:
            report = compare(base, p)
            score.append(round(max((i.score for i in report.drifted), default=0.0), 4))
            drifted.append(len(report.drifted))
        else:
            score.append(None)
            drifted.append(None)
    return MonitorSeries(
        agent=agent,
        env=env,
        since=since,
        until=until,
        bucket_s=step_ns / 1e9,
        times=tuple((start_ns + i * step_ns) / 1e9 for i in range(buckets)),
        runs=tuple(p.n_runs for p in profiles),
        tools=tuple(tools),
        tool_share=share,
        validity=tuple(validity),
        completion=tuple(completion),
        errors=tuple(errors),
        drift_score=tuple(score),
        drifted_items=tuple(drifted),
        baseline=rec,
    )
