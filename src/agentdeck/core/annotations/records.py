"""Annotation queues, their items and the labels reviewers give, as stored values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from agentdeck.core.annotations.schema import LabelSchema


class ItemStatus(StrEnum):
    PENDING = "pending"
    LABELLED = "labelled"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class QueueRecord:
    """A review queue: the runs a filter (and an optional seeded sample) picked, reviewed with
    ``schema``. ``filter`` holds the runs-list filter parameters as given."""

    queue_id: str
    name: str
    schema: LabelSchema
    filter: Mapping[str, str]
    sample: float | None
    seed: int
    created_by: str
    created_at: datetime
    counts: Mapping[str, int] = field(default_factory=dict)  # per ItemStatus, when read

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class QueueItem:
    queue_id: str
    position: int  # 1-based, in the queue's order (newest run first)
    trace_id: str
    status: ItemStatus = ItemStatus.PENDING


@dataclass(frozen=True)
class Annotation:
    """A label (and scores) a reviewer gave a run in a queue."""

    annotation_id: str
    queue_id: str
    trace_id: str
    label: str
    passed: bool | None  # the label's ``pass`` in the schema
    scores: Mapping[str, float]
    comment: str | None
    by: str
    created_at: datetime
    agent_name: str | None = None
    agent_digest: str | None = None


@dataclass(frozen=True)
class DatasetCase:
    """An eval case made from a production run, stored under a suite name."""

    suite: str
    case_id: str
    case: Mapping[str, object]  # the case as a suite file writes it
    trace_id: str
    created_by: str
    created_at: datetime
