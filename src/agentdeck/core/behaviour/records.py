"""What monitoring stores: run summaries, baselines (behaviour profiles), findings and alerts.

Values only; :class:`agentdeck.store.protocol.MonitorStore` persists them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RunSummaryRow:
    """A checked run's compact summary (JSON text made by ``agentdeck.monitor.summary``)."""

    trace_id: str
    agent_name: str | None
    agent_digest: str | None
    env: str | None
    start_ns: int
    summary: str


@dataclass(frozen=True)
class BaselineRecord:
    """A named behaviour profile (``profile`` is its JSON) and the runs it was built from."""

    name: str
    agent_name: str
    agent_digest: str | None
    env: str | None
    selection: str  # human-readable: which runs were selected
    n_runs: int
    created_at: datetime
    created_by: str
    profile: str


@dataclass(frozen=True)
class FindingRecord:
    """A stored per-run finding; ``id`` is derived from (trace, span, check) by the writer."""

    id: str
    trace_id: str
    span_id: str | None
    agent_name: str | None
    env: str | None
    check: str
    severity: str
    explanation: str
    at: datetime


# An alert's statuses; an active alert is open or acknowledged.
ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED = "open", "acknowledged", "resolved"
ALERT_ACTIVE = (ALERT_OPEN, ALERT_ACKNOWLEDGED)


@dataclass(frozen=True)
class AlertRecord:
    """A fired alert rule. ``status``: ``open``, ``acknowledged`` or ``resolved``;
    ``action`` records what was done automatically (e.g. the rollback's deployment id)."""

    id: str
    rule: str
    subject: str
    agent_name: str | None
    env: str | None
    severity: str
    status: str
    message: str
    value: float | None
    opened_at: datetime
    last_seen_at: datetime
    updated_at: datetime
    updated_by: str | None = None
    action: str | None = None
