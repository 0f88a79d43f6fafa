"""Window checks: compare the runs of a recent window with a baseline.

:func:`check_window` builds the window's profile from run summaries (same settings as the
baseline's, so the two are comparable) and calls :func:`agentdeck.monitor.drift.compare`; the
report names what drifted, with p-values and effect sizes, most changed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core.timeparse import parse_duration as parse_duration  # re-exported
from agentdeck.monitor import metrics
from agentdeck.monitor.drift import DriftReport, DriftSettings, compare
from agentdeck.monitor.profiles import (
    ProfileStore,
    Progress,
    RunSelection,
    agent_filter,
    build_stored_profile,
    latest_baseline,
    load_baseline,
)


@dataclass(frozen=True)
class WindowCheck:
    """One window compared with one baseline."""

    agent: str
    env: str | None
    since: datetime
    until: datetime
    baseline: str
    report: DriftReport

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "env": self.env,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "baseline": self.baseline,
            **self.report.to_dict(),
        }


def check_window(
    store: ProfileStore,
    agent: str,
    env: str | None,
    window: timedelta,
    baseline: str | None = None,
    *,
    now: datetime | None = None,
    settings: DriftSettings | None = None,
    progress: Progress | None = None,
) -> WindowCheck:
    """Compare the runs of ``agent`` in ``env`` over the last ``window`` with ``baseline``
    (default: the latest baseline of the agent for that env)."""
    until = now or datetime.now(UTC)
    since = until - window
    name, digest = agent_filter(store, agent)
    rec, base = load_baseline(store, baseline) if baseline else latest_baseline(store, name, env)
    sel = RunSelection(name, digest, env, since, until)
    current = build_stored_profile(store, sel, base.settings, progress)
    report = compare(base, current, settings)
    metrics.record_drift(name, env, report)
    return WindowCheck(name, env, since, until, rec.name, report)
