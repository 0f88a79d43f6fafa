"""Issue 15 point 4 on both backends: ``rca`` explains a failed outcome without a tool error
from the baseline, and never calls a recovered error the failure of a run that succeeded."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from typer.testing import CliRunner

from agentdeck.core.behaviour.profile import ProfileBuilder
from agentdeck.core.behaviour.records import BaselineRecord
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus
from agentdeck.store.sql import SqlStore
from agentdeck.tracing.analysis.rca import rca_to_dict, root_cause

_n = iter(range(1, 10_000))


def _run(
    trace: str, actions: list[tuple[str, bool]], outcome: Outcome | None
) -> tuple[Run, list[Span]]:
    root = f"{next(_n):016x}"
    spans = [
        Span(
            trace,
            root,
            None,
            "bot",
            SpanKind.AGENT,
            0,
            10_000,
            seq=0,
            status=SpanStatus.OK,
            attributes={"agent.name": "bot"},
        )
    ]
    for i, (tool, err) in enumerate(actions, start=1):
        spans.append(
            Span(
                trace,
                f"{next(_n):016x}",
                root,
                tool,
                SpanKind.TOOL,
                i * 100,
                i * 100 + 50,
                seq=i,
                status=SpanStatus.ERROR if err else SpanStatus.OK,
                error="timeout" if err else None,
                inputs={"args": {"id": i}},
                outputs=None if err else {"result": {"ok": True}},
                attributes={"tool.name": tool},
            )
        )
    run = Run(
        trace_id=trace,
        agent_name="bot",
        agent_version=1,
        agent_digest=None,
        env="dev",
        deployment_id=None,
        start_ns=0,
        end_ns=10_000,
        status=SpanStatus.OK,
        error=None,
        input="cancel my booking",
        output="done",
        outcome=outcome,
    )
    return run, spans


def _baseline(store: SqlStore) -> None:
    b = ProfileBuilder()
    for i in range(40):
        run, spans = _run(
            f"{i:032x}", [("get_reservation", False), ("cancel", False)], Outcome.SUCCESS
        )
        b.add(RunView.from_run(run, spans))
    profile = b.finish()
    store.put_baseline(
        BaselineRecord(
            "bot-ok",
            "bot",
            None,
            "dev",
            "successful runs",
            profile.n_runs,
            datetime.now(UTC),
            "test",
            orjson.dumps(profile.to_dict()).decode(),
        )
    )


def test_a_failed_outcome_without_an_error_is_explained_not_blameless(store: SqlStore) -> None:
    _baseline(store)
    run, spans = _run("f" * 32, [("get_reservation", False)], Outcome.FAILURE)
    store.write_batch([run], spans)
    rc = root_cause(store, run.trace_id)
    assert rc is not None and rc.cause is None
    text = " | ".join(rc.differences)
    assert "expected call 'cancel' never made" in text
    assert "get_reservation -> <end>" in text
    assert rca_to_dict(rc)["differences"] == list(rc.differences)


def test_rca_cli_says_what_differs(sqlite_store: SqlStore) -> None:
    from agentdeck.cli.main import app

    store = sqlite_store  # the CLI opens the database by URL
    _baseline(store)
    run, spans = _run("e" * 32, [("get_reservation", False)], Outcome.FAILURE)
    store.write_batch([run], spans)
    res = CliRunner().invoke(app, ["rca", run.trace_id, "--db", store.url])
    assert res.exit_code == 0, res.output
    assert "nothing to blame" not in res.output
    assert "outcome is a failure without a tool error" in res.output
    assert "cancel" in res.output


def test_a_recovered_error_is_not_the_failure_of_a_successful_run(store: SqlStore) -> None:
    run, spans = _run(
        "d" * 32,
        [("get_reservation", True), ("get_reservation", False), ("cancel", False)],
        Outcome.SUCCESS,
    )
    store.write_batch([run], spans)
    rc = root_cause(store, run.trace_id)
    assert rc is not None
    assert rc.failure.status is SpanStatus.OK and rc.cause is None
    assert [b.span.span_id for b in rc.recovered] == [spans[1].span_id]
    assert rc.differences == ()
    # without the later successful call the error stays the failure
    run2, spans2 = _run("c" * 32, [("get_reservation", True)], None)
    store.write_batch([run2], spans2)
    rc2 = root_cause(store, run2.trace_id)
    assert rc2 is not None and rc2.cause is not None
    assert rc2.cause.span.span_id == spans2[1].span_id and rc2.recovered == ()
