"""Outcomes in monitoring, on SQLite and PostgreSQL: ``completion_rate`` uses a known outcome
(failed conversations are not completed), profiles carry the outcome success rate and the
score distribution, feedback that sets an outcome changes the next profile, drift tests the
outcome, and alert rules can name it."""

from __future__ import annotations

from agentdeck.core.trace.feedback import FeedbackSource
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.monitor.drift import compare
from agentdeck.monitor.profiles import RunSelection, baseline_summary, build_stored_profile
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.feedback import record_feedback


def _write(store: SqlStore, n: int, first: int, outcome: Outcome | None, score: float | None):
    runs, spans = [], []
    for i in range(first, first + n):
        tid = f"{i:032x}"
        runs.append(
            Run(
                trace_id=tid, agent_name="airline-bot", agent_version=1, agent_digest=None,
                env="production", deployment_id=None, start_ns=1_000 + i, end_ns=2_000_000 + i,
                status=SpanStatus.OK, error=None, input="cancel my trip", output="Done.",
                root_span_id=f"{i:016x}", outcome=outcome, outcome_score=score,
            )
        )  # fmt: skip
        spans.append(
            Span(tid, f"{i + 1:016x}", f"{i:016x}", "get_user_details", SpanKind.TOOL,
                 1_000 + i, 900_000 + i, seq=1, status=SpanStatus.OK,
                 inputs={"args": {"user_id": "u1"}}, outputs={"result": {"name": "A"}},
                 attributes={"tool.name": "get_user_details", "tool.args_valid": True})
        )  # fmt: skip
    store.write_batch(runs, spans)
    return [r.trace_id for r in runs]


def _profile(store: SqlStore, ids: list[str]):
    return build_stored_profile(store, RunSelection("airline-bot", trace_ids=tuple(ids)))


def test_failed_conversations_do_not_count_as_completed(store: SqlStore) -> None:
    ok = _write(store, 40, 1, Outcome.SUCCESS, 1.0)
    failed = _write(store, 40, 1001, Outcome.FAILURE, 0.0)
    good, bad = _profile(store, ok), _profile(store, failed)
    assert (good.completion_rate, bad.completion_rate) == (1.0, 0.0)
    assert (good.outcome_success_rate, bad.outcome_success_rate) == (1.0, 0.0)
    assert bad.numeric["outcome_score"].count == 40
    report = compare(good, bad)
    drifted = {i.metric for i in report.drifted}
    assert {"completion_rate", "outcome_success_rate", "outcome_score"} <= drifted
    summary = baseline_summary_of(good)
    assert summary["outcome_success_rate"] == 1.0 and summary["outcomes_known"] == 40


def baseline_summary_of(profile):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from agentdeck.core.behaviour.records import BaselineRecord

    rec = BaselineRecord("b", "airline-bot", None, None, "ids", profile.n_runs,
                         datetime.now(UTC), "t", "{}")  # fmt: skip
    return baseline_summary(rec, profile)


def test_feedback_that_sets_an_outcome_changes_the_next_profile(store: SqlStore) -> None:
    ids = _write(store, 10, 1, None, None)
    before = _profile(store, ids)  # summaries written now, without outcomes
    assert before.completion_rate == 1.0 and before.outcome_success_rate is None
    for tid in ids[:4]:
        record_feedback(store, tid, score=None, label="thumbs_down", comment=None, by="ada",
                        source=FeedbackSource.HUMAN)  # fmt: skip
    after = _profile(store, ids)
    assert after.outcome_success_rate == 0.0 and after.outcomes == (0, 4)
    assert after.completion_rate == 0.6


def test_alert_rules_can_name_outcome_metrics() -> None:
    cfg = parse_alert_config(
        {
            "sinks": [{"name": "log", "type": "log"}],
            "rules": [
                {"name": "wins", "metric": "outcome_success_rate", "agent": "airline-bot",
                 "op": "<", "threshold": 0.8, "severity": "warning", "window": "1h", "sinks": ["log"]},
                {"name": "score", "metric": "outcome_score", "agent": "airline-bot",
                 "op": "<", "threshold": 0.5, "severity": "warning", "window": "1h", "sinks": ["log"]},
            ],
        }
    )  # fmt: skip
    assert [r.metric for r in cfg.rules] == ["outcome_success_rate", "outcome_score"]
