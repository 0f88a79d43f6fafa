"""Provisional runs in the store, on both backends: created when a trace has no run, widened by
later provisional runs of the trace, replaced whole by the real run, never overwriting a real
run; idempotent and order-independent; their window summary dropped when the trace changes."""

from __future__ import annotations

import itertools
from dataclasses import replace

from sqlalchemy import select

from agentdeck.core.behaviour.records import RunSummaryRow
from agentdeck.core.trace.model import PROVISIONAL, Run, Span, SpanKind, SpanStatus, new_trace_id
from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore
from agentdeck.store.tables_monitor import run_summaries


def _provisional(tid: str, start: int, end: int, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=tid,
        agent_name=None,
        agent_version=None,
        agent_digest=None,
        env=None,
        deployment_id=None,
        start_ns=start,
        end_ns=end,
        attributes={"service.name": "bot", PROVISIONAL: True},  # marker not first: still one
    )
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def _real(tid: str, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=tid,
        agent_name="support-bot",
        agent_version=3,
        agent_digest="sha256:ab",
        env="production",
        deployment_id="d1",
        start_ns=50,
        end_ns=900,
        status=SpanStatus.OK,
        input={"q": "hi"},
        output="done",
        root_span_id="a" * 16,
        attributes={"service.name": "bot"},
    )
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def _span(tid: str, sid: int, start: int, end: int) -> Span:
    return Span(tid, f"{sid:016x}", "f" * 16, f"step {sid}", SpanKind.TOOL, start, end)


def test_provisional_run_is_created_listed_and_marked(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    trace_store.write_batch(
        [], [_span(tid, 1, 100, 200)], provisional=[_provisional(tid, 100, 200)]
    )
    run = trace_store.get_run(tid)
    assert run is not None and run.provisional
    assert (run.start_ns, run.end_ns, run.status) == (100, 200, SpanStatus.UNSET)
    assert run.attributes == {PROVISIONAL: True, "service.name": "bot"}
    assert [r.trace_id for r in trace_store.find_runs(RunQuery())] == [tid]


def test_provisional_runs_widen_escalate_and_fill_in(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    trace_store.write_batch([], [], provisional=[_provisional(tid, 100, 200)])
    later = _provisional(
        tid,
        150,
        400,
        agent_name="support-bot",
        agent_version=3,
        env="production",
        status=SpanStatus.ERROR,
        error="invoice service down",
    )
    trace_store.write_batch([], [], provisional=[later])
    earlier = _provisional(
        tid, 20, 60, agent_name="other", status=SpanStatus.ERROR, error="second failure"
    )
    trace_store.write_batch([], [], provisional=[earlier])
    run = trace_store.get_run(tid)
    assert run is not None and run.provisional
    assert (run.start_ns, run.end_ns) == (20, 400)
    assert (run.status, run.error) == (SpanStatus.ERROR, "invoice service down")  # first error
    assert (run.agent_name, run.agent_version, run.env) == ("support-bot", 3, "production")


def test_real_run_replaces_a_provisional_run_whole(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    trace_store.write_batch(
        [], [], provisional=[_provisional(tid, 10, 2_000, status=SpanStatus.ERROR, error="x")]
    )
    real = _real(tid)
    trace_store.write_batch([real], [])
    assert trace_store.get_run(tid) == real
    trace_store.write_batch([], [], provisional=[_provisional(tid, 1, 5_000)])  # late children
    assert trace_store.get_run(tid) == real


def test_existing_real_run_is_left_alone(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    real = _real(tid)
    trace_store.write_batch([real], [])
    trace_store.write_batch([_real(tid, agent_name="impostor")], [])  # first real run wins
    trace_store.write_batch(
        [], [], provisional=[_provisional(tid, 1, 9_999, status=SpanStatus.ERROR, error="x")]
    )
    assert trace_store.get_run(tid) == real


def test_merging_is_idempotent_and_order_independent(trace_store: SqlStore) -> None:
    parts = [
        _provisional("", 100, 200),
        _provisional("", 50, 150, status=SpanStatus.ERROR, error="boom"),
        _provisional("", 120, 300),
    ]
    finals = []
    for order in itertools.permutations(parts):
        tid = new_trace_id()
        for p in order:
            for _ in range(2):  # every request re-sent
                trace_store.write_batch([], [], provisional=[replace(p, trace_id=tid)])
        run = trace_store.get_run(tid)
        assert run is not None
        finals.append((run.start_ns, run.end_ns, run.status, run.error))
    assert set(finals) == {(50, 300, SpanStatus.ERROR, "boom")}


def test_one_batch_with_both_kinds_ends_with_the_real_run(trace_store: SqlStore) -> None:
    a, b = new_trace_id(), new_trace_id()
    real_a, real_b = _real(a), _real(b)
    trace_store.write_batch([real_a], [], provisional=[_provisional(a, 1, 2)])
    trace_store.write_batch([], [], provisional=[_provisional(b, 1, 2)])
    trace_store.write_batch([real_b], [], provisional=[_provisional(b, 0, 3)])
    assert trace_store.get_run(a) == real_a and trace_store.get_run(b) == real_b


def test_a_provisional_runs_summary_is_dropped_when_its_trace_changes(
    trace_store: SqlStore,
) -> None:
    prov, real = new_trace_id(), new_trace_id()
    trace_store.write_batch([_real(real)], [], provisional=[_provisional(prov, 100, 200)])
    trace_store.put_run_summaries(
        [RunSummaryRow(t, None, None, None, 100, "{}") for t in (prov, real)]
    )
    trace_store.write_batch([_real(real)], [], provisional=[_provisional(prov, 100, 300)])
    assert _summarized(trace_store, prov) is False  # to be re-summarized with the new spans
    assert _summarized(trace_store, real) is True  # a real run's summary is not touched
    trace_store.put_run_summaries([RunSummaryRow(prov, None, None, None, 100, "{}")])
    trace_store.write_batch([_real(prov)], [])
    assert _summarized(trace_store, prov) is False  # the real run's check writes it anew


def _summarized(store: SqlStore, tid: str) -> bool:
    with store.engine.connect() as conn:
        q = select(run_summaries.c.trace_id).where(run_summaries.c.trace_id == tid)
        return conn.execute(q).first() is not None
