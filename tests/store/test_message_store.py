"""Issue 15 point 6, on both backends: an LLM span's context window is stored once per run
(content-addressed messages), read back unchanged, and a run's storage grows linearly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id
from agentdeck.store import SqlStore
from agentdeck.store.engine import insert_ignore_sql
from agentdeck.store.sql_messages import REFS_KEY
from agentdeck.store.sql_traces import span_tuple
from agentdeck.store.tables import spans as spans_table
from agentdeck.store.tables_messages import messages


def conversation(trace: str, turns: int) -> tuple[Run, list[Span]]:
    """A run of ``turns`` model calls, each seeing the whole conversation so far."""
    root = new_span_id()
    window: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful agent. " * 20}]
    out = [Span(trace, root, None, "bot", SpanKind.AGENT, 0, 10**9, seq=0, status=SpanStatus.OK)]
    for i in range(turns):
        window.append({"role": "user", "content": f"question {i}: " + "x" * 300})
        out.append(
            Span(
                trace,
                new_span_id(),
                root,
                "chat",
                SpanKind.LLM,
                i * 10 + 1,
                i * 10 + 5,
                seq=i + 1,
                status=SpanStatus.OK,
                inputs={"model": "m", "messages": list(window), "tools": [{"name": "t"}]},
                outputs={"message": {"role": "assistant", "content": f"answer {i}"}},
            )
        )
        window.append({"content": f"answer {i}", "role": "assistant"})  # key order kept
    run = Run(
        trace_id=trace,
        agent_name="bot",
        agent_version=None,
        agent_digest=None,
        env=None,
        deployment_id=None,
        start_ns=0,
        end_ns=10**9,
        status=SpanStatus.OK,
        error=None,
        input="hi",
        output="bye",
    )
    return run, out


def _stored_bytes(store: SqlStore, trace: str) -> int:
    with store.engine.connect() as conn:
        s = conn.execute(
            select(func.sum(func.length(spans_table.c.inputs))).where(
                spans_table.c.trace_id == trace
            )
        ).scalar()
        m = conn.execute(
            select(func.sum(func.length(messages.c.content))).where(messages.c.trace_id == trace)
        ).scalar()
    return int(s or 0) + int(m or 0)


def test_context_windows_read_back_unchanged_and_stored_once(store: SqlStore) -> None:
    run, spans = conversation("a" * 32, 12)
    store.write_batch([run], spans)
    store.write_batch([run], spans)  # re-sent: nothing changes
    got = store.get_spans(run.trace_id)
    assert got == sorted(spans, key=lambda s: s.seq)
    assert list(got[1].inputs) == ["model", "messages", "tools"]
    assert list(got[-1].inputs["messages"][2]) == ["content", "role"]
    ((_, both),) = store.get_runs_with_spans([run.trace_id])
    assert both == got
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(messages)).scalar()
        raw = conn.execute(
            select(spans_table.c.inputs).where(spans_table.c.kind == "llm").limit(1)
        ).scalar()
    assert n == 1 + 12 + 11  # system prompt, 12 questions, the 11 answers later calls saw
    assert REFS_KEY in str(raw)


def test_an_edited_window_shares_its_prefix_and_reads_back(store: SqlStore) -> None:
    run, spans = conversation("c" * 32, 4)
    last = spans[-1]
    assert isinstance(last.inputs, dict)
    edited = dict(last.inputs)
    edited["messages"] = [*last.inputs["messages"][:2], {"role": "user", "content": "other"}]
    extra = Span(
        run.trace_id,
        new_span_id(),
        spans[0].span_id,
        "chat",
        SpanKind.LLM,
        100,
        101,
        seq=9,
        status=SpanStatus.OK,
        inputs=edited,
    )
    store.write_batch([], spans)
    store.write_batch([run], [extra])  # another batch: shares rows written by the first
    got = {s.span_id: s for s in store.get_spans(run.trace_id)}
    assert got[extra.span_id] == extra and got[last.span_id] == last


def test_a_runs_storage_grows_linearly_with_its_turns(store: SqlStore) -> None:
    sizes = {}
    for turns in (10, 40):
        run, spans = conversation(f"{turns:032x}", turns)
        store.write_batch([run], spans)
        sizes[turns] = _stored_bytes(store, run.trace_id)
    # inline windows grow ~16x from 10 to 40 turns; stored once, ~4x (references are small)
    assert sizes[40] < 6 * sizes[10], sizes


def test_spans_stored_inline_before_the_messages_table_read_back(store: SqlStore) -> None:
    run, spans = conversation("b" * 32, 3)
    with store.engine.begin() as conn:  # as revision 0002 wrote them: messages inline
        conn.exec_driver_sql(insert_ignore_sql(conn, spans_table), [span_tuple(s) for s in spans])
    assert store.get_spans(run.trace_id) == sorted(spans, key=lambda s: s.seq)
