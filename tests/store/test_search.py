"""Search queries over stored runs, on both backends: each field of the query language, free
text over run inputs and outputs, tool arguments and results and model output (words,
phrases, prefixes), negation and OR, combined with the list's own filters and its cursor,
and a re-sent batch that changes nothing."""

from __future__ import annotations

import pytest

from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus, new_span_id
from agentdeck.core.trace.query import RunCursor, RunQuery
from agentdeck.core.trace.search_plan import search_query
from agentdeck.store import SqlStore

S = 1_000_000_000  # one second in ns


def _run(tid: str, start: int, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=tid, agent_name="support-bot", agent_version=1, agent_digest="sha256:aa",
        env="production", deployment_id=None, start_ns=start, end_ns=start + S, status=SpanStatus.OK,
    )  # fmt: skip
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def _tool(tid: str, name: str, args: object, result: object, start: int) -> Span:
    return Span(tid, new_span_id(), None, name, SpanKind.TOOL, start, start + 10, seq=1,
                inputs={"args": args}, outputs={"result": result},
                attributes={"tool.name": name})  # fmt: skip


def _llm(tid: str, text: str, start: int) -> Span:
    return Span(tid, new_span_id(), None, "chat gpt-4o", SpanKind.LLM, start, start + 10, seq=2,
                inputs={"messages": [{"role": "user", "content": "context window only"}]},
                outputs={"content": text})  # fmt: skip


A, B, C, D = "a" * 32, "b" * 32, "c" * 32, "d" * 32


@pytest.fixture
def loaded(store: SqlStore) -> SqlStore:
    runs = [
        _run(A, 1 * S, input="Where is my parcel?", output="It ships tomorrow",
             session_id="conv-1", user_id="alice",
             attributes={"tags": ["vip", "beta"], "metadata": '{"tier": "gold", "region": "eu"}',
                         "customer.plan": "pro"}),
        _run(B, 2 * S, input="Refund order 1234 please", output="Refund issued", end_ns=2 * S + 5 * S,
             session_id="conv-1", user_id="bob", agent_version=2, outcome=Outcome.SUCCESS,
             attributes={"tags": ["vip"], "metadata.tier": "silver"}),
        _run(C, 3 * S, input="cancel my subscription", output=None, status=SpanStatus.ERROR,
             env="staging", user_id="alice", outcome=Outcome.FAILURE, end_ns=3 * S + S // 10,
             attributes={"customer.plan": "free"}),
        _run(D, 4 * S, input="hello", output="hi there", agent_name="other-bot", agent_version=1),
    ]  # fmt: skip
    spans = [
        _tool(B, "refund", {"order_id": "ord-98765", "amount": 42}, {"status": "accepted"}, 2 * S),
        _tool(C, "lookup", {"email": "carol@example.com"}, "account frozen", 3 * S),
        _llm(A, "Your parcel is in Rotterdam warehouse", 1 * S),
    ]
    store.write_batch(runs, spans)
    return store


def ids(store: SqlStore, q: str, base: RunQuery | None = None) -> list[str]:
    found = store.find_runs(search_query(base or RunQuery(), q, "-q"))
    return [r.trace_id[0] for r in found]


@pytest.mark.parametrize(
    ("q", "want"),
    [
        ("", ["d", "c", "b", "a"]),
        ("agent:support-bot", ["c", "b", "a"]),
        ("version:2", ["b"]),
        ("version>=2", ["b"]),
        ("env:staging", ["c"]),
        ("env!=staging", ["d", "b", "a"]),
        ("status:error", ["c"]),
        ("outcome:success", ["b"]),
        ("outcome:failure OR outcome:success", ["c", "b"]),
        ("session:conv-1", ["b", "a"]),
        ("user:alice", ["c", "a"]),
        ("user:alice session:conv-1", ["a"]),
        ("tool:refund", ["b"]),
        ("errors:false tool:lookup", ["c"]),
        ("tag:vip", ["b", "a"]),
        ("tag:beta", ["a"]),
        ("-tag:vip", ["d", "c"]),
        ("metadata.tier:gold", ["a"]),
        ("metadata.tier:silver", ["b"]),
        ("metadata.region:eu", ["a"]),
        ("attr.customer.plan:free", ["c"]),
        ('attr.customer.plan:"pro"', ["a"]),
        ("latency>2s", ["b"]),
        ("latency<500ms", ["c"]),
        ("latency>=1s latency<=1s", ["d", "a"]),
        ("time>=2000000000 time<4000000000", ["c", "b"]),
        ("time>2000000000", ["d", "c"]),
        ("refund", ["b"]),  # run input and output
        ("ord-98765", ["b"]),  # tool arguments
        ("accepted", ["b"]),  # tool result
        ("frozen", ["c"]),  # tool result given as a string
        ("carol@example.com", ["c"]),
        ("rotterdam", ["a"]),  # model output, any case
        ('"ships tomorrow"', ["a"]),  # phrase
        ('"tomorrow ships"', []),
        ("rotter*", ["a"]),  # prefix
        ("window", []),  # an LLM span's context window is not indexed
        ("parcel -rotterdam", []),
        ("parcel OR subscription", ["c", "a"]),
        ("(tag:vip OR env:staging) -refund", ["c", "a"]),
        ("NOT (user:alice OR user:bob)", ["d"]),
        ("text:refund agent:support-bot", ["b"]),
        ('text:"refund issued"', ["b"]),
    ],
)
def test_search_query_selects_the_matching_runs(loaded: SqlStore, q: str, want: list[str]) -> None:
    assert ids(loaded, q) == want


def test_search_combines_with_list_filters_and_cursor(loaded: SqlStore) -> None:
    assert ids(loaded, "tag:vip", RunQuery(user_id="bob")) == ["b"]
    assert ids(loaded, "agent:other-bot", RunQuery(agent_name="support-bot")) == []
    page = RunQuery(limit=1)
    first = ids(loaded, "agent:support-bot", page)
    assert first == ["c"]
    after = RunQuery(limit=5, after=RunCursor(3 * S, C))
    assert ids(loaded, "agent:support-bot", after) == ["b", "a"]


def test_resending_a_batch_does_not_duplicate_matches(loaded: SqlStore) -> None:
    again = [_tool(B, "refund", {"order_id": "ord-98765"}, "accepted", 2 * S)]
    loaded.write_batch([_run(B, 2 * S, input="Refund order 1234 please")], again)
    assert ids(loaded, "refund") == ["b"]
    assert ids(loaded, "tag:vip") == ["b", "a"]


def test_cost_range_filters_on_run_cost(loaded: SqlStore) -> None:
    with loaded.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE runs SET cost_usd = 2.5 WHERE trace_id = '{B}'")
        conn.exec_driver_sql(f"UPDATE runs SET cost_usd = 0.01 WHERE trace_id = '{A}'")
    assert ids(loaded, "cost>1") == ["b"]
    assert ids(loaded, "cost<=$0.5") == ["d", "c", "a"]  # c and d made no model call: $0
    assert ids(loaded, "cost>0 cost<=$0.5") == ["a"]
