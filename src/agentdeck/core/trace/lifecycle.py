"""Data lifecycle values: an environment's retention (``retention.days`` in its settings),
what a deletion removed, and how deleted run ids are kept in the audit chain (hashed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core.errors import InputError

__all__ = ["MAX_RETENTION_DAYS", "DeleteReport", "hashed_ids", "retention_days"]

MAX_RETENTION_DAYS = 36_500


def retention_days(settings: Mapping[str, Any], env: str = "") -> int | None:
    """The ``retention.days`` of an environment's settings: None when unset, else a whole
    number of days from 1 to :data:`MAX_RETENTION_DAYS`; anything else is an
    :class:`InputError` naming the field."""
    section = settings.get("retention")
    if section is None:
        return None
    where = f"{env}: retention.days" if env else "retention.days"
    if not isinstance(section, Mapping):
        raise InputError(f"{where}: expected a section with days, got {section!r}")
    unknown = sorted(set(section) - {"days"})
    if unknown:
        raise InputError(
            f"{env + ': ' if env else ''}retention.{unknown[0]}: unknown key (known: days)"
        )
    days = section.get("days")
    if days is None:
        return None
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise InputError(
            f"{where}: expected a whole number of days from 1 to {MAX_RETENTION_DAYS}, got {days!r}"
        )
    return days


def hashed_ids(trace_ids: Iterable[str]) -> list[str]:
    """The SHA-256 of each run id, sorted: what the audit chain keeps of deleted runs, so that
    whoever holds an id can check it was deleted, and the chain holds nothing of the run."""
    return sorted(hashlib.sha256(t.encode()).hexdigest() for t in trace_ids)


@dataclass(frozen=True)
class DeleteReport:
    """What a deletion (or its dry run) matched and removed: runs, and rows per table."""

    what: str  # the selection: run ids, session, user, query, or env retention
    runs: int = 0
    rows: Mapping[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "what": self.what,
            "runs": self.runs,
            "rows": dict(self.rows),
            "dry_run": self.dry_run,
        }
