"""Runs and spans in the store, on both backends: round trip, idempotency, queries."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.trace.model import (
    LinkKind,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore

json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.text(max_size=20)
)
json_value = st.recursive(
    json_scalar,
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=8), c, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def spans(draw: st.DrawFn) -> Span:
    return Span(
        trace_id=new_trace_id(),
        span_id=new_span_id(),
        parent_id=draw(st.none() | st.just(new_span_id())),
        name=draw(st.text(min_size=1, max_size=30)),
        kind=draw(st.sampled_from(list(SpanKind))),
        start_ns=draw(st.integers(0, 2**62)),
        end_ns=draw(st.integers(0, 2**62)),
        seq=draw(st.integers(0, 10_000)),
        status=draw(st.sampled_from(list(SpanStatus))),
        error=draw(st.none() | st.text(max_size=40)),
        inputs=draw(json_value),
        outputs=draw(json_value),
        attributes=draw(st.dictionaries(st.text(min_size=1, max_size=10), json_value, max_size=4)),
        links=tuple(
            SpanLink(new_trace_id(), new_span_id(), k)
            for k in draw(st.lists(st.sampled_from(list(LinkKind)), max_size=2))
        ),
        usage=draw(
            st.none()
            | st.builds(
                TokenUsage,
                st.integers(0, 10**6),
                st.integers(0, 10**6),
                st.integers(0, 10**6),
                st.integers(0, 10**6),
            )
        ),
    )


@settings(
    max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(span=spans())
def test_span_round_trips_through_the_sqlite_store(sqlite_store: SqlStore, span: Span) -> None:
    sqlite_store.write_batch([], [span])
    assert sqlite_store.get_spans(span.trace_id) == [span]


def _run(trace_id: str, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=trace_id,
        agent_name="bot",
        agent_version=1,
        agent_digest="sha256:aa",
        env="production",
        deployment_id="d1",
        start_ns=1_000,
        end_ns=2_000,
        status=SpanStatus.OK,
        input={"q": "hi"},
        output="ok",
    )
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def _tool_span(trace_id: str, tool: str, seq: int) -> Span:
    return Span(
        trace_id,
        new_span_id(),
        None,
        tool,
        SpanKind.TOOL,
        1_000 + seq,
        1_001 + seq,
        seq=seq,
        attributes={"tool.name": tool},
    )


def test_write_batch_is_idempotent_by_span_and_trace_id(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    run = _run(tid)
    sp = [_tool_span(tid, "lookup_order", i) for i in range(3)]
    trace_store.write_batch([run], sp)
    trace_store.write_batch([run], sp)  # re-sent after a spill: stored once
    trace_store.write_batch([], sp[:1])
    assert len(trace_store.get_spans(tid)) == 3
    assert trace_store.find_runs(RunQuery(agent_name="bot")) == [run]


def test_find_runs_filters_by_agent_version_env_status_time_and_tool(trace_store: SqlStore) -> None:
    a, b, c = new_trace_id(), new_trace_id(), new_trace_id()
    trace_store.write_batch(
        [
            _run(a, start_ns=100),
            _run(b, agent_version=2, status=SpanStatus.ERROR, start_ns=200),
            _run(c, env="staging", start_ns=300),
        ],
        [
            _tool_span(a, "issue_refund", 0),
            _tool_span(b, "search_kb", 0),
            _tool_span(c, "issue_refund", 0),
        ],
    )
    ids = lambda q: {r.trace_id for r in trace_store.find_runs(q)}  # noqa: E731
    assert ids(RunQuery(agent_name="bot")) == {a, b, c}
    assert ids(RunQuery(agent_version=2)) == {b}
    assert ids(RunQuery(env="staging")) == {c}
    assert ids(RunQuery(status=SpanStatus.ERROR)) == {b}
    assert ids(RunQuery(since_ns=150, until_ns=300)) == {b}
    assert ids(RunQuery(tool="issue_refund")) == {a, c}
    assert [r.trace_id for r in trace_store.find_runs(RunQuery(limit=2))] == [c, b]  # newest first
    assert trace_store.trace_ids_with_prefix(a[:10]) == [a]
