"""Annotation queues, labels, dataset cases and sampled-out runs in SQL (0019_annotations).

A label is stored with the feedback it gives the run (so outcome monitors count it) and the
queue item's new status, audited, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentdeck.core.annotations.records import (
    Annotation,
    DatasetCase,
    ItemStatus,
    QueueItem,
    QueueRecord,
)
from agentdeck.core.annotations.schema import parse_label_schema
from agentdeck.core.errors import ConflictError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.core.trace.feedback import Feedback
from agentdeck.core.trace.model import PROVISIONAL, Outcome, Run, SpanStatus
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.sql_feedback import put_feedback_in
from agentdeck.store.tables import runs, spans
from agentdeck.store.tables_annotations import (
    dataset_cases,
    queue_items,
    queues,
    sampled_runs,
)
from agentdeck.store.tables_annotations import (
    labels as labels_t,
)
from agentdeck.store.tables_messages import messages

_CHUNK = 500


def _queue(r: Any, counts: dict[str, int]) -> QueueRecord:
    return QueueRecord(
        queue_id=r.queue_id,
        name=r.name,
        schema=parse_label_schema(orjson.loads(r.schema), "stored schema"),
        filter=orjson.loads(r.filter),
        sample=r.sample,
        seed=int(r.seed),
        created_by=r.created_by,
        created_at=as_utc(r.created_at),
        counts=counts,
    )


class SqlAnnotations(SqlBase):
    # -- queues ------------------------------------------------------------------------------

    def put_queue(self, queue: QueueRecord, trace_ids: Sequence[str], audit: AuditEvent) -> None:
        """Store a queue and its items (in ``trace_ids`` order); :class:`ConflictError` when the
        name is taken."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(queues).values(
                        queue_id=queue.queue_id,
                        name=queue.name,
                        schema=orjson.dumps(queue.schema.to_dict()).decode(),
                        filter=orjson.dumps(dict(queue.filter)).decode(),
                        sample=queue.sample,
                        seed=queue.seed,
                        created_by=queue.created_by,
                        created_at=queue.created_at,
                    )
                )
                rows = [
                    {"queue_id": queue.queue_id, "position": i, "trace_id": t,
                     "status": str(ItemStatus.PENDING)}
                    for i, t in enumerate(trace_ids, 1)
                ]  # fmt: skip
                for i in range(0, len(rows), _CHUNK):
                    conn.execute(insert(queue_items), rows[i : i + _CHUNK])
                append_audit_in(conn, audit)
        except IntegrityError:
            raise ConflictError(f"a queue named {queue.name!r} exists already") from None

    def _counts(self, conn: Any, ids: Sequence[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {i: {} for i in ids}
        if not ids:
            return out
        q = (
            select(queue_items.c.queue_id, queue_items.c.status, func.count())
            .where(queue_items.c.queue_id.in_(list(ids)))
            .group_by(queue_items.c.queue_id, queue_items.c.status)
        )
        for qid, status, n in conn.execute(q).all():
            out[qid][status] = int(n)
        return out

    def get_queue(self, id_or_name: str) -> QueueRecord | None:
        """By id, unique id prefix or name."""
        with self._read() as conn:
            rows = conn.execute(select(queues).where(queues.c.name == id_or_name)).all()
            if not rows and id_or_name:
                rows = conn.execute(
                    select(queues).where(queues.c.queue_id.startswith(id_or_name)).limit(2)
                ).all()
            if len(rows) != 1:
                return None
            return _queue(rows[0], self._counts(conn, [rows[0].queue_id])[rows[0].queue_id])

    def list_queues(self) -> list[QueueRecord]:
        """Newest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(queues).order_by(queues.c.created_at.desc(), queues.c.queue_id)
            ).all()
            counts = self._counts(conn, [r.queue_id for r in rows])
        return [_queue(r, counts[r.queue_id]) for r in rows]

    def queue_items(self, queue_id: str) -> list[QueueItem]:
        with self._read() as conn:
            rows = conn.execute(
                select(queue_items)
                .where(queue_items.c.queue_id == queue_id)
                .order_by(queue_items.c.position)
            ).all()
        return [QueueItem(r.queue_id, r.position, r.trace_id, ItemStatus(r.status)) for r in rows]

    def set_item_status(self, queue_id: str, trace_id: str, status: ItemStatus) -> bool:
        """Whether the run is in the queue (and now has ``status``)."""
        with self._write() as conn:
            n = conn.execute(
                update(queue_items)
                .where(queue_items.c.queue_id == queue_id, queue_items.c.trace_id == trace_id)
                .values(status=str(status))
            ).rowcount
        return bool(n)

    # -- labels ------------------------------------------------------------------------------

    def put_annotation(
        self, item: Annotation, feedback_: Feedback, outcome: Outcome | None, audit: AuditEvent
    ) -> bool:
        """Store the label, its feedback (setting the run's outcome when unknown: returned),
        the item's status, and the audit entry, in one transaction."""
        with self._write() as conn:
            conn.execute(
                insert(labels_t).values(
                    annotation_id=item.annotation_id,
                    queue_id=item.queue_id,
                    trace_id=item.trace_id,
                    label=item.label,
                    passed=item.passed,
                    scores=orjson.dumps(dict(item.scores)).decode(),
                    comment=item.comment,
                    by=item.by,
                    created_at=item.created_at,
                    agent_name=item.agent_name,
                    agent_digest=item.agent_digest,
                )
            )
            changed = put_feedback_in(conn, feedback_, outcome)
            conn.execute(
                update(queue_items)
                .where(
                    queue_items.c.queue_id == item.queue_id,
                    queue_items.c.trace_id == item.trace_id,
                )
                .values(status=str(ItemStatus.LABELLED))
            )
            append_audit_in(conn, audit)
        return changed

    def list_annotations(
        self,
        *,
        trace_id: str | None = None,
        queue_id: str | None = None,
        agent_digest: str | None = None,
        limit: int = 1000,
    ) -> list[Annotation]:
        """Newest first."""
        q = select(labels_t)
        if trace_id is not None:
            q = q.where(labels_t.c.trace_id == trace_id)
        if queue_id is not None:
            q = q.where(labels_t.c.queue_id == queue_id)
        if agent_digest is not None:
            q = q.where(labels_t.c.agent_digest == agent_digest)
        q = q.order_by(labels_t.c.created_at.desc(), labels_t.c.annotation_id).limit(limit)
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [
            Annotation(
                annotation_id=r.annotation_id,
                queue_id=r.queue_id,
                trace_id=r.trace_id,
                label=r.label,
                passed=r.passed,
                scores=orjson.loads(r.scores),
                comment=r.comment,
                by=r.by,
                created_at=as_utc(r.created_at),
                agent_name=r.agent_name,
                agent_digest=r.agent_digest,
            )
            for r in rows
        ]

    # -- datasets ----------------------------------------------------------------------------

    def put_dataset_case(self, case: DatasetCase, audit: AuditEvent) -> None:
        """:class:`ConflictError` when the suite has a case of that id."""
        try:
            with self._write() as conn:
                conn.execute(
                    insert(dataset_cases).values(
                        suite=case.suite,
                        case_id=case.case_id,
                        case=orjson.dumps(dict(case.case)).decode(),
                        trace_id=case.trace_id,
                        created_by=case.created_by,
                        created_at=case.created_at,
                    )
                )
                append_audit_in(conn, audit)
        except IntegrityError:
            raise ConflictError(
                f"suite {case.suite!r} has a case {case.case_id!r} already"
            ) from None

    def dataset_cases(self, suite: str) -> list[DatasetCase]:
        """In the order they were added."""
        with self._read() as conn:
            rows = conn.execute(
                select(dataset_cases)
                .where(dataset_cases.c.suite == suite)
                .order_by(dataset_cases.c.created_at, dataset_cases.c.case_id)
            ).all()
        return [
            DatasetCase(r.suite, r.case_id, orjson.loads(r.case), r.trace_id, r.created_by,
                        as_utc(r.created_at))
            for r in rows
        ]  # fmt: skip

    def dataset_names(self) -> list[tuple[str, int]]:
        """Each stored suite with its number of cases."""
        with self._read() as conn:
            rows = conn.execute(
                select(dataset_cases.c.suite, func.count())
                .group_by(dataset_cases.c.suite)
                .order_by(dataset_cases.c.suite)
            ).all()
        return [(r[0], int(r[1])) for r in rows]

    # -- sampling ----------------------------------------------------------------------------

    def drop_span_payloads(self, trace_ids: Sequence[str], fraction: float, at: datetime) -> int:
        """Delete the spans (and context-window messages) of ``trace_ids``, keeping their run
        rows, summaries and online evaluators' score spans (``eval``), and note each in
        ``sampled_runs``; returns the spans deleted."""
        if not trace_ids:
            return 0
        total = 0
        with self._write() as conn:
            for i in range(0, len(trace_ids), _CHUNK):
                chunk = list(trace_ids[i : i + _CHUNK])
                done = set(
                    conn.execute(
                        select(sampled_runs.c.trace_id).where(sampled_runs.c.trace_id.in_(chunk))
                    ).scalars()
                )
                chunk = [t for t in chunk if t not in done]
                if not chunk:
                    continue
                payload = spans.c.trace_id.in_(chunk) & (spans.c.kind != "eval")
                per: dict[str, int] = dict(
                    conn.execute(
                        select(spans.c.trace_id, func.count())
                        .where(payload)
                        .group_by(spans.c.trace_id)
                    ).all()
                )
                conn.execute(delete(spans).where(payload))
                conn.execute(delete(messages).where(messages.c.trace_id.in_(chunk)))
                conn.execute(
                    insert(sampled_runs),
                    [{"trace_id": t, "spans_dropped": int(per.get(t, 0)), "fraction": fraction,
                      "at": at} for t in chunk],
                )  # fmt: skip
                total += sum(per.get(t, 0) for t in chunk)
        return total

    def sampling_view(self, trace_ids: Sequence[str]) -> list[Run]:
        """What the sampling rule reads of each finished run of ``trace_ids``, in one query a
        chunk: env, status, outcome, counts and the provisional mark (other fields empty)."""
        out: list[Run] = []
        cols = (runs.c.trace_id, runs.c.env, runs.c.end_ns, runs.c.status, runs.c.outcome,
                runs.c.tool_errors, runs.c.denied_calls, runs.c.attributes)  # fmt: skip
        with self._read() as conn:
            for i in range(0, len(trace_ids), _CHUNK):
                chunk = list(trace_ids[i : i + _CHUNK])
                q = select(*cols).where(runs.c.trace_id.in_(chunk), runs.c.end_ns.is_not(None))
                for r in conn.execute(q).all():
                    attrs = orjson.loads(r.attributes) if r.attributes else {}
                    mark = {PROVISIONAL: True} if attrs.get(PROVISIONAL) is True else {}
                    out.append(
                        Run(r.trace_id, None, None, None, r.env, None, 0, r.end_ns,
                            SpanStatus(r.status), tool_errors=r.tool_errors,
                            denied_calls=r.denied_calls,
                            outcome=Outcome(r.outcome) if r.outcome else None, attributes=mark)
                    )  # fmt: skip
        return out

    def sampled_out(self, trace_ids: Sequence[str]) -> set[str]:
        """Which of ``trace_ids`` had their spans dropped by sampling."""
        if not trace_ids:
            return set()
        with self._read() as conn:
            return set(
                conn.execute(
                    select(sampled_runs.c.trace_id).where(
                        sampled_runs.c.trace_id.in_(list(trace_ids))
                    )
                ).scalars()
            )
