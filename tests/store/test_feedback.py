"""Feedback on runs, on SQLite and PostgreSQL: stored with who and when, audited, and setting
the run's outcome only when none is known."""

from __future__ import annotations

import pytest

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.trace.feedback import FeedbackSource, outcome_from_feedback
from agentdeck.core.trace.model import Outcome, Run, SpanStatus
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.feedback import record_feedback


def _run(tid: str, outcome: Outcome | None = None) -> Run:
    return Run(
        trace_id=tid,
        agent_name="support-bot",
        agent_version=1,
        agent_digest=None,
        env="production",
        deployment_id=None,
        start_ns=1,
        end_ns=2,
        status=SpanStatus.OK,
        error=None,
        input="hi",
        output="done",
        root_span_id="1" * 16,
        outcome=outcome,
        outcome_score=None if outcome is None else 1.0,
        outcome_reason=None if outcome is None else "agent said so",
    )


def test_feedback_is_stored_audited_and_sets_an_unknown_outcome_once(store: SqlStore) -> None:
    tid = "a1" * 16
    store.write_batch([_run(tid)], [])
    first = record_feedback(
        store, tid[:8], score=0.0, label="thumbs_down", comment="never cancelled",
        by="ada", source=FeedbackSource.HUMAN,
    )  # fmt: skip
    assert first.outcome_set and first.feedback.trace_id == tid
    run = store.get_run(tid)
    assert run is not None and run.outcome is Outcome.FAILURE
    assert run.outcome_reason == "feedback by ada" and run.outcome_score == 0.0
    second = record_feedback(
        store, tid, score=0.9, label=None, comment=None, by="judge-v2",
        source=FeedbackSource.PROGRAM,
    )  # fmt: skip
    assert not second.outcome_set  # the first outcome stays
    run = store.get_run(tid)
    assert run is not None and run.outcome is Outcome.FAILURE
    items = store.list_feedback(tid)
    assert [(f.by, f.source, f.score, f.label) for f in items] == [
        ("ada", FeedbackSource.HUMAN, 0.0, "thumbs_down"),
        ("judge-v2", FeedbackSource.PROGRAM, 0.9, None),
    ]
    assert items[0].comment == "never cancelled" and items[0].created_at.tzinfo is not None
    audit = [e for e in store.audit_entries() if e.action == "run.feedback"]
    assert [e.actor for e in audit] == ["ada", "judge-v2"]


def test_feedback_never_overrides_the_agents_own_outcome(store: SqlStore) -> None:
    tid = "b2" * 16
    store.write_batch([_run(tid, Outcome.SUCCESS)], [])
    got = record_feedback(
        store, tid, score=None, label="bad", comment=None, by="bob", source=FeedbackSource.HUMAN
    )
    assert not got.outcome_set
    run = store.get_run(tid)
    assert run is not None and run.outcome is Outcome.SUCCESS
    assert run.outcome_reason == "agent said so"
    assert len(store.list_feedback(tid)) == 1


def test_bad_feedback_names_the_field_and_stores_nothing(store: SqlStore) -> None:
    tid = "c3" * 16
    store.write_batch([_run(tid)], [])
    with pytest.raises(InputError, match=r"^body\.score: give a score or a label"):
        record_feedback(store, tid, score=None, label=" ", comment=None, by="x",
                        source=FeedbackSource.HUMAN, where="body.")  # fmt: skip
    with pytest.raises(InputError, match=r"score: must be a finite number"):
        record_feedback(store, tid, score=float("nan"), label=None, comment=None, by="x",
                        source=FeedbackSource.HUMAN)  # fmt: skip
    with pytest.raises(UnresolvedReferenceError):
        record_feedback(store, "d4" * 16, score=1.0, label=None, comment=None, by="x",
                        source=FeedbackSource.HUMAN)  # fmt: skip
    assert store.list_feedback(tid) == []
    assert store.get_run(tid).outcome is None  # type: ignore[union-attr]


def test_outcome_rule() -> None:
    assert outcome_from_feedback(None, "Thumbs Up") is Outcome.SUCCESS
    assert outcome_from_feedback(0.2, "good") is Outcome.SUCCESS  # the label decides
    assert outcome_from_feedback(0.5, None) is Outcome.SUCCESS
    assert outcome_from_feedback(0.49, "tone") is Outcome.FAILURE
    assert outcome_from_feedback(7.0, None) is None  # not a [0, 1] score
    assert outcome_from_feedback(None, "tone") is None
