"""Window checks: compare the runs of a recent window with a baseline.

:func:`check_window` builds the window's profile from run summaries (same settings as the
baseline's, so the two are comparable) and calls :func:`agentdeck.monitor.drift.compare`; the
report names what drifted, with p-values and effect sizes, most changed first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.monitor import metrics
from agentdeck.monitor.drift import DriftReport, DriftSettings, compare
from agentdeck.monitor.profiles import (
    Progress,
    RunSelection,
    agent_filter,
    build_stored_profile,
    latest_baseline,
    load_baseline,
)
from agentdeck.store.protocol import Store

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


#: Longest window: ten years (longer ones overflow date arithmetic, and mean nothing here).
MAX_DURATION = timedelta(days=3653)


def parse_duration(text: str, field: str = "--window") -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` (at most :data:`MAX_DURATION`)."""
    m = _DURATION.match(str(text).strip())
    if not m or int(m.group(1)) == 0:
        raise InputError(f"{field}: {text!r} is not a duration like 90s, 15m, 1h, 7d or 2w")
    try:
        value = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    except OverflowError:
        value = MAX_DURATION + MAX_DURATION
    if value > MAX_DURATION:
        raise InputError(f"{field}: {text!r} is longer than ten years")
    return value


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
    store: Store,
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
