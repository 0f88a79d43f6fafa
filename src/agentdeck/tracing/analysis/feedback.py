"""Recording feedback on a run: the one service the CLI, the API and the UI all call.

Checks the values (an :class:`InputError` names the field), resolves the run id (a unique
prefix is enough), stores the feedback with an audit entry and, when the run has no outcome
yet, the outcome the feedback tells (the rule is in :mod:`agentdeck.core.trace.feedback`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.feedback import Feedback, FeedbackSource, check_feedback
from agentdeck.store.protocol import FeedbackStore, TraceStore
from agentdeck.tracing.analysis.queries import find_trace_id


class _FeedbackTarget(FeedbackStore, TraceStore, Protocol):  # the two seams used here
    pass


@dataclass(frozen=True, slots=True)
class FeedbackReceipt:
    feedback: Feedback
    outcome_set: bool


def record_feedback(
    store: _FeedbackTarget,
    run_id: str,
    *,
    score: float | None,
    label: str | None,
    comment: str | None,
    by: str,
    source: FeedbackSource,
    where: str = "",
    actor: str | None = None,
    may_act_on: Callable[[str | None], None] | None = None,
    now: datetime | None = None,
) -> FeedbackReceipt:
    """Store one feedback on ``run_id``; ``where`` prefixes field names in errors
    (``body.`` for the API, ``--`` for the CLI); ``actor`` is who the audit entry names
    (default ``by``: the API records the key, the CLI the user); ``may_act_on`` is called with
    the run's agent name and raises when the caller may not touch it."""
    label = label.strip() if label is not None else None
    check_feedback(score, label or None, comment, by, where)
    tid = find_trace_id(store, run_id)
    run = store.get_run(tid)
    if run is None:
        raise UnresolvedReferenceError(run_id, "no run with that id")
    if may_act_on is not None:
        may_act_on(run.agent_name)
    item = Feedback(
        feedback_id=uuid.uuid4().hex,
        trace_id=tid,
        score=score,
        label=label or None,
        comment=comment,
        by=by,
        source=source,
        created_at=now or datetime.now(UTC),
    )
    audit = AuditEvent(
        actor or by,
        "run.feedback",
        tid,
        {"feedback_id": item.feedback_id, "score": score, "label": item.label,
         "source": str(source), "by": by},
        project=run.project,
    )  # fmt: skip
    changed = store.put_feedback(item, audit)
    return FeedbackReceipt(item, changed)
