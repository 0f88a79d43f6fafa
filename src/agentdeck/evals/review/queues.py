"""Annotation queues: create one from a runs filter (and a seeded sample), walk it, label runs.

One service for the CLI, the API and the UI. A queue's runs are picked when it is created:
the runs the filter finds (newest first, at most ``limit``), then, with ``sample``, the share
of them whose seeded hash falls under it (:func:`agentdeck.core.annotations.sampling.sampled_in`),
so the same filter, sample and seed pick the same runs. A label is checked against the queue's
label schema, stored with the feedback it gives the run (``pass: true`` is a score of 1, so
the outcome monitors count a success; ``pass: false`` a score of 0; no ``pass`` no outcome),
and moves the run's item to ``labelled``; a skip moves it to ``skipped``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.annotations.records import (
    Annotation,
    ItemStatus,
    QueueItem,
    QueueRecord,
)
from agentdeck.core.annotations.sampling import sampled_in
from agentdeck.core.annotations.schema import LabelSchema, check_label, nearest
from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.timeparse import parse_time_ns
from agentdeck.core.trace.feedback import MAX_COMMENT, Feedback, FeedbackSource
from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.store.protocol import AnnotationStore, TraceStore
from agentdeck.tracing.analysis.queries import find_trace_id

MAX_QUEUE = 5000
FILTER_KEYS = (
    "agent", "version", "env", "status", "outcome", "tool", "since", "until",
    "session_id", "user_id", "has_errors", "denied",
)  # fmt: skip


class QueueStore(TraceStore, AnnotationStore, Protocol):
    """Runs to pick and read; queues, items and labels to keep."""


def _flag(value: str, field: str) -> bool:
    v = value.strip().lower()
    if v in ("true", "1", "yes", "on"):
        return True
    if v in ("false", "0", "no", "off"):
        return False
    raise InputError(f"{field}: expected true or false, got {value!r}")


def run_query(filters: Mapping[str, str], limit: int, where: str) -> RunQuery:
    """The runs list's filters (the same names as ``GET /api/v1/runs``) as a query; errors
    name ``where`` + the filter."""
    for key in filters:
        if key not in FILTER_KEYS:
            raise InputError(f"{where}{key}: unknown filter{nearest(key, FILTER_KEYS)}")
    f = {k: str(v) for k, v in filters.items() if v not in (None, "")}
    try:
        status = SpanStatus(f["status"]) if "status" in f else None
    except ValueError:
        raise InputError(
            f"{where}status: expected ok, error or unset, got {f['status']!r}"
        ) from None
    try:
        outcome = Outcome(f["outcome"]) if "outcome" in f else None
    except ValueError:
        raise InputError(
            f"{where}outcome: expected success or failure, got {f['outcome']!r}"
        ) from None
    version = None
    if "version" in f:
        if not f["version"].isdigit() or not 1 <= int(f["version"]) <= 10**9:
            raise InputError(f"{where}version: expected a version number, got {f['version']!r}")
        version = int(f["version"])
    return RunQuery(
        agent_name=f.get("agent"),
        agent_version=version,
        env=f.get("env"),
        status=status,
        outcome=outcome,
        tool=f.get("tool"),
        since_ns=parse_time_ns(f["since"], f"{where}since") if "since" in f else None,
        until_ns=parse_time_ns(f["until"], f"{where}until") if "until" in f else None,
        session_id=f.get("session_id"),
        user_id=f.get("user_id"),
        has_errors=_flag(f["has_errors"], f"{where}has_errors") if "has_errors" in f else None,
        denied=_flag(f["denied"], f"{where}denied") if "denied" in f else None,
        limit=limit,
    )


def create_queue(
    store: QueueStore,
    name: str,
    schema: LabelSchema,
    *,
    filters: Mapping[str, str],
    by: str,
    sample: float | None = None,
    seed: int = 0,
    limit: int = 500,
    where: str = "--",
    now: datetime | None = None,
    project: str = DEFAULT_PROJECT,
) -> QueueRecord:
    """Pick the runs of ``project`` and store the queue (audited); errors name ``where`` +
    the field. A queue of another project than the default keeps it in its ``filter``."""
    if not name or len(name) > 100 or name != name.strip():
        raise InputError(f"{where}name: 1 to 100 characters, no surrounding spaces")
    if sample is not None and not 0 < sample <= 1:
        raise InputError(f"{where}sample: expected a fraction in (0, 1], got {sample!r}")
    if not 1 <= limit <= MAX_QUEUE:
        raise InputError(f"{where}limit: expected 1..{MAX_QUEUE}, got {limit}")
    if not 0 <= seed < 2**62:
        raise InputError(f"{where}seed: expected 0..2^62, got {seed}")
    query = replace(
        run_query(filters, 1000, where if where == "--" else f"{where}filter."), project=project
    )
    picked: list[str] = []
    while len(picked) < limit:
        page = store.find_runs(query)
        picked += [
            r.trace_id for r in page
            if not r.provisional and (sample is None or sampled_in(r.trace_id, sample, str(seed)))
        ]  # fmt: skip
        if len(page) < query.limit:
            break
        last = page[-1]
        from agentdeck.core.trace.query import RunCursor

        query = RunQuery(**{**query.__dict__, "after": RunCursor(last.start_ns, last.trace_id)})
    picked = picked[:limit]
    queue = QueueRecord(
        queue_id=uuid.uuid4().hex,
        name=name,
        schema=schema,
        filter={
            **{k: str(v) for k, v in filters.items() if v not in (None, "")},
            **({} if project == DEFAULT_PROJECT else {"project": project}),
        },
        sample=sample,
        seed=seed,
        created_by=by,
        created_at=now or datetime.now(UTC),
        counts={str(ItemStatus.PENDING): len(picked)} if picked else {},
    )
    audit = AuditEvent(by, "queue.create", name,
                       {"queue_id": queue.queue_id, "runs": len(picked), "sample": sample},
                       project)  # fmt: skip
    store.put_queue(queue, picked, audit)
    return queue


def queue_project(queue: QueueRecord) -> str:
    """The project whose runs the queue holds."""
    return str(queue.filter.get("project", DEFAULT_PROJECT))


def get_queue(store: AnnotationStore, ref: str, project: str | None = None) -> QueueRecord:
    """The queue of name or id ``ref`` (``project``: only one of that project's)."""
    q = store.get_queue(ref)
    if q is None or (project is not None and queue_project(q) != project):
        names = [
            x.name for x in store.list_queues() if project is None or queue_project(x) == project
        ]
        raise UnresolvedReferenceError(ref, f"no such queue{nearest(ref, names)}")
    return q


def next_item(store: AnnotationStore, queue: QueueRecord, after: int = 0) -> QueueItem | None:
    """The first pending item after position ``after`` (wrapping to the start)."""
    pending = [i for i in store.queue_items(queue.queue_id) if i.status is ItemStatus.PENDING]
    later = [i for i in pending if i.position > after]
    found = later or pending
    return found[0] if found else None


@dataclass(frozen=True)
class LabelReceipt:
    annotation: Annotation
    outcome_set: bool


def _item(store: QueueStore, queue: QueueRecord, run_id: str) -> str:
    tid = find_trace_id(store, run_id)
    if not any(i.trace_id == tid for i in store.queue_items(queue.queue_id)):
        raise InputError(f"{run_id}: run is not in queue {queue.name!r}")
    return tid


def label_run(
    store: QueueStore,
    queue: QueueRecord,
    run_id: str,
    label: str,
    *,
    by: str,
    scores: Mapping[str, Any] | None = None,
    comment: str | None = None,
    where: str = "--",
    now: datetime | None = None,
) -> LabelReceipt:
    """Label a run of ``queue``; the label gives the run feedback (and an unknown outcome)."""
    checked = check_label(queue.schema, label, scores or {}, where)
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InputError(f"{where}comment: longer than {MAX_COMMENT} characters")
    if not by or len(by) > 200:
        raise InputError(f"{where}by: must be 1 to 200 characters")
    tid = _item(store, queue, run_id)
    run = store.get_run(tid)
    definition = queue.schema.label(label)
    passed = definition.passed if definition is not None else None
    at = now or datetime.now(UTC)
    item = Annotation(
        annotation_id=uuid.uuid4().hex, queue_id=queue.queue_id, trace_id=tid, label=label,
        passed=passed, scores=checked, comment=comment, by=by, created_at=at,
        agent_name=run.agent_name if run else None, agent_digest=run.agent_digest if run else None,
    )  # fmt: skip
    score = None if passed is None else (1.0 if passed else 0.0)
    fb = Feedback(uuid.uuid4().hex, tid, score, label, comment, by, FeedbackSource.HUMAN, at)
    outcome = None if passed is None else (Outcome.SUCCESS if passed else Outcome.FAILURE)
    audit = AuditEvent(by, "run.label", tid,
                       {"queue": queue.name, "label": label, "passed": passed, "scores": checked},
                       run.project if run else queue_project(queue))  # fmt: skip
    changed = store.put_annotation(item, fb, outcome, audit)
    return LabelReceipt(item, changed)


def skip_run(store: QueueStore, queue: QueueRecord, run_id: str) -> str:
    tid = _item(store, queue, run_id)
    store.set_item_status(queue.queue_id, tid, ItemStatus.SKIPPED)
    return tid
