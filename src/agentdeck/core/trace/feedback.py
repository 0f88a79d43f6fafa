"""Feedback on a run: a score and/or a label from a person or a program, who gave it, when.

Feedback is kept as given (many per run). It may also tell the run's *outcome* when nothing
else has: the rule (:func:`outcome_from_feedback`) is

- a label says it when it is one of :data:`SUCCESS_LABELS` / :data:`FAILURE_LABELS`
  (``thumbs_up``, ``good``, ``success``... / ``thumbs_down``, ``bad``, ``failure``...);
- otherwise a score in ``[0, 1]`` does: ``>= 0.5`` is success, below is failure;
- otherwise (a free label, a score outside ``[0, 1]``) it says nothing.

A known outcome (from the agent, an importer, an eval or earlier feedback) is never
overwritten: the first feedback that says something sets it, with the reason
``feedback by NAME``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome

SUCCESS_LABELS = frozenset({"thumbs_up", "up", "good", "positive", "success", "pass", "correct"})
FAILURE_LABELS = frozenset({"thumbs_down", "down", "bad", "negative", "failure", "fail", "wrong"})
MAX_LABEL = 100
MAX_COMMENT = 4000
MAX_BY = 200


class FeedbackSource(StrEnum):
    HUMAN = "human"
    PROGRAM = "program"


@dataclass(frozen=True, slots=True)
class Feedback:
    """One piece of feedback on the run ``trace_id``."""

    feedback_id: str
    trace_id: str
    score: float | None
    label: str | None
    comment: str | None
    by: str
    source: FeedbackSource
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "feedback_id": self.feedback_id,
            "trace_id": self.trace_id,
            "score": self.score,
            "label": self.label,
            "comment": self.comment,
            "by": self.by,
            "source": str(self.source),
            "created_at": self.created_at.isoformat(),
        }


def check_feedback(
    score: float | None, label: str | None, comment: str | None, by: str, where: str
) -> None:
    """Raise :class:`InputError` naming the field (``where`` + name) when a value is unusable."""
    if score is None and not label:
        raise InputError(f"{where}score: give a score or a label (or both)")
    if score is not None and not math.isfinite(score):
        raise InputError(f"{where}score: must be a finite number, got {score!r}")
    if label is not None and not 0 < len(label) <= MAX_LABEL:
        raise InputError(f"{where}label: must be 1 to {MAX_LABEL} characters")
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InputError(f"{where}comment: longer than {MAX_COMMENT} characters")
    if not by or len(by) > MAX_BY:
        raise InputError(f"{where}by: must be 1 to {MAX_BY} characters")


def outcome_from_feedback(score: float | None, label: str | None) -> Outcome | None:
    """The outcome this feedback tells, by the rule of the module docstring."""
    norm = (label or "").strip().lower().replace("-", "_").replace(" ", "_")
    if norm in SUCCESS_LABELS:
        return Outcome.SUCCESS
    if norm in FAILURE_LABELS:
        return Outcome.FAILURE
    if score is not None and 0.0 <= score <= 1.0:
        return Outcome.SUCCESS if score >= 0.5 else Outcome.FAILURE
    return None
