"""A canary's audited steps as events: the ``deployment.canary.<what>`` audit entries read back,
for ``history`` and ``at`` (:class:`~.canary.Canaries`) and the CLI's fast ``history``. Imports
no more than the records themselves (the canary service imports the deployments service)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentdeck.core.deploy.audit_chain import AuditEntry

__all__ = ["PAST", "CanaryEvent", "canary_entries_of", "canary_events"]

PAST = {
    "start": "started", "advance": "advanced", "complete": "completed",
    "rollback": "rolled back", "pause": "paused", "resume": "resumed", "abort": "aborted",
}  # fmt: skip


@dataclass(frozen=True)
class CanaryEvent:
    """One audited step of a canary (its ``deployment.canary.<what>`` audit entry): ``share``
    is the candidate's share of runs from then on."""

    at: datetime
    what: str  # start, advance, complete, rollback, pause, resume, abort
    canary_id: str
    candidate_version: int
    candidate_digest: str
    share: float
    shadow: bool
    actor: str
    reason: str


def canary_entries_of(name: str, env: str) -> tuple[str, str]:
    """The audit subject and action prefix of agent ``name``'s canary steps in ``env``."""
    return f"{name}@{env}", "deployment.canary."


def canary_events(entries: Iterable[AuditEntry]) -> list[CanaryEvent]:
    """The events of those audit entries, in their order."""
    return [
        CanaryEvent(
            at=datetime.fromisoformat(e.at).astimezone(UTC),
            what=e.action.removeprefix("deployment.canary."),
            canary_id=str(e.payload.get("canary", "")),
            candidate_version=int(e.payload.get("candidate_version", 0)),
            candidate_digest=str(e.payload.get("candidate_digest", "")),
            share=float(e.payload.get("share", 0.0)),
            shadow=bool(e.payload.get("shadow", False)),
            actor=e.actor,
            reason=str(e.payload.get("reason", "")),
        )
        for e in entries
    ]
