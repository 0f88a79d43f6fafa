"""What replay stores: :class:`ReplayReportRecord` (:class:`agentdeck.store.protocol.ReplayStore`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ReplayReportRecord:
    """A stored replay report (``agentdeck.tracing.replay.engine``): ``report`` is the report's JSON.

    ``kind`` is ``reproduce``, ``with`` or ``agreement``; ``outcome`` is ``reproduced`` /
    ``diverged`` (reproduce) or ``agreed`` / ``disagreed``; ``score`` is the similarity of a
    ``with`` comparison or the agreement fraction of an agreement report.
    """

    id: str
    kind: str
    source_trace_id: str | None
    replay_trace_id: str | None
    agent_name: str | None
    candidate_digest: str | None
    outcome: str
    score: float | None
    created_at: datetime
    report: dict[str, Any]
