"""Tokens and cost at ingest, on every trace backend (SQLite, PostgreSQL, ClickHouse): each
LLM span priced from its usage and model, each run's sums kept from its stored spans whatever
the arrival order, unknown models unpriced (null, never 0), totals per group."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from agentdeck.core.cost import ModelPrice, Rate
from agentdeck.core.trace.model import PROVISIONAL, Run, Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.prices import StaticPrices
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.cost import backfill_costs

PRICES = StaticPrices(
    {
        "m-small": ModelPrice("m-small", Rate(1.0), Rate(4.0), cache_read=Rate(0.5)),
        "m-big": ModelPrice("m-big", Rate(10.0), Rate(40.0), reasoning=Rate(80.0)),
    }
)
T0 = 1_790_000_000 * 10**9  # 2026-09-21
DAY = 86_400 * 10**9
_n = 0


def _tid() -> str:
    global _n
    _n += 1
    return f"{time.time_ns():024x}{_n:08x}"[-32:]


def _llm(tid: str, sid: str, model: str | None, usage: TokenUsage, start: int = T0) -> Span:
    attrs = {"llm.model": model} if model else {}
    return Span(
        tid,
        sid,
        None,
        f"chat {model}",
        SpanKind.LLM,
        start,
        start + 10,
        attributes=attrs,
        usage=usage,
    )


def _run(
    tid: str, agent: str = "bot", version: int = 1, env: str = "dev", start: int = T0, **kw: object
) -> Run:
    return Run(tid, agent, version, "sha256:x", env, None, start, start + 100, SpanStatus.OK, **kw)  # type: ignore[arg-type]


@pytest.fixture
def priced(trace_store: SqlStore) -> SqlStore:
    trace_store.prices = PRICES  # type: ignore[attr-defined]
    traces = getattr(trace_store, "traces", None)
    if traces is not None:
        traces.prices = PRICES
    return trace_store


def test_a_run_sums_its_llm_calls_priced_with_cached_and_reasoning_tokens(priced: SqlStore) -> None:
    tid = _tid()
    spans = [
        # 1000 in (400 cached) at $1 / $0.5, 100 out at $4: 600+200 + 400 = $0.0012
        _llm(tid, "a" * 16, "m-small", TokenUsage(1000, 100, cache_read_tokens=400)),
        # 100 in at $10, 50 out of which 30 reasoning: 20 x $40 + 30 x $80: 1000+800+2400 = $0.0042
        _llm(tid, "b" * 16, "M-BIG", TokenUsage(100, 50, reasoning_tokens=30)),
    ]
    priced.write_batch([_run(tid)], spans)
    run = priced.get_run(tid)
    assert run is not None
    assert (run.input_tokens, run.output_tokens, run.total_tokens) == (1100, 150, 1250)
    assert run.cost_usd == pytest.approx(0.0012 + 0.0042)
    assert run.unpriced_calls == 0
    costs = {s.span_id[0]: s.cost_usd for s in priced.get_spans(tid)}
    assert costs == {"a": pytest.approx(0.0012), "b": pytest.approx(0.0042)}


def test_an_unknown_model_is_unpriced_null_not_zero(priced: SqlStore) -> None:
    only_unknown, mixed = _tid(), _tid()
    priced.write_batch(
        [_run(only_unknown), _run(mixed)],
        [
            _llm(only_unknown, "a" * 16, "mystery-model", TokenUsage(500, 5)),
            _llm(mixed, "b" * 16, "m-small", TokenUsage(1_000_000, 0)),
            _llm(mixed, "c" * 16, None, TokenUsage(10, 10)),  # names no model
        ],
    )
    a, b = priced.get_run(only_unknown), priced.get_run(mixed)
    assert a is not None and b is not None
    assert a.cost_usd is None and a.unpriced_calls == 1 and a.total_tokens == 505
    assert b.cost_usd == pytest.approx(1.0) and b.unpriced_calls == 1
    assert [s.cost_usd for s in priced.get_spans(only_unknown)] == [None]


def test_a_run_without_llm_calls_costs_zero(priced: SqlStore) -> None:
    tid = _tid()
    priced.write_batch([_run(tid)], [])
    run = priced.get_run(tid)
    assert run is not None and run.cost_usd == 0.0 and run.total_tokens == 0


def test_sums_are_right_whatever_the_arrival_order_and_resending_changes_nothing(
    priced: SqlStore,
) -> None:
    tid = _tid()
    first, second = (
        _llm(tid, "a" * 16, "m-small", TokenUsage(1_000_000, 0)),
        _llm(tid, "b" * 16, "m-small", TokenUsage(0, 1_000_000)),
    )
    priced.write_batch([], [first])  # a span before its run
    priced.write_batch([_run(tid)], [])  # the run
    priced.write_batch([], [second])  # a span after its run
    priced.write_batch([_run(tid)], [first, second])  # everything again
    run = priced.get_run(tid)
    assert run is not None
    assert run.cost_usd == pytest.approx(5.0) and run.total_tokens == 2_000_000


def test_a_provisional_run_is_summed_then_replaced_by_the_real_run_with_the_same_sums(
    priced: SqlStore,
) -> None:
    tid = _tid()
    prov = Run(
        tid,
        None,
        None,
        None,
        None,
        None,
        T0,
        T0 + 5,
        SpanStatus.UNSET,
        attributes={PROVISIONAL: True},
    )
    priced.write_batch(
        [], [_llm(tid, "a" * 16, "m-small", TokenUsage(2_000_000, 0))], provisional=[prov]
    )
    assert (r := priced.get_run(tid)) is not None and r.cost_usd == pytest.approx(2.0)
    priced.write_batch([_run(tid)], [])
    assert (r := priced.get_run(tid)) is not None and r.cost_usd == pytest.approx(2.0)
    assert not r.provisional


def test_totals_per_version_env_session_and_day(priced: SqlStore) -> None:
    agent = f"cost-{_tid()[:8]}"
    rows = [
        (1, "staging", "s1", T0, 1_000_000),
        (1, "production", "s1", T0 + 1, 1_000_000),
        (2, "production", "s2", T0 + DAY, 3_000_000),
    ]
    for version, env, session, start, tokens in rows:
        tid = _tid()
        priced.write_batch(
            [_run(tid, agent, version, env, start, session_id=session)],
            [_llm(tid, "a" * 16, "m-small", TokenUsage(tokens, 0), start)],
        )
    by_version = {t.key: t for t in priced.cost_totals("version", agent_name=agent)}
    assert list(by_version) == [f"{agent}@2", f"{agent}@1"]  # costliest first
    assert by_version[f"{agent}@1"].runs == 2
    assert by_version[f"{agent}@1"].cost_usd == pytest.approx(2.0)
    assert by_version[f"{agent}@1"].mean_cost_usd == pytest.approx(1.0)
    by_env = {t.key: t.cost_usd for t in priced.cost_totals("env", agent_name=agent)}
    assert by_env == {"production": pytest.approx(4.0), "staging": pytest.approx(1.0)}
    by_session = {t.key: t.runs for t in priced.cost_totals("session", agent_name=agent)}
    assert by_session == {"s2": 1, "s1": 2}
    by_day = [(t.key, t.cost_usd) for t in priced.cost_totals("day", agent_name=agent)]
    assert by_day == [("2026-09-22", pytest.approx(3.0)), ("2026-09-21", pytest.approx(2.0))]
    window = priced.cost_totals("agent", agent_name=agent, since_ns=T0 + DAY)
    assert [(t.key, t.runs) for t in window] == [(agent, 1)]


def test_an_unknown_group_is_refused_naming_it(priced: SqlStore) -> None:
    with pytest.raises(Exception, match="group_by"):
        priced.cost_totals("model")


def test_backfill_prices_spans_stored_unpriced_and_recounts_their_runs(store: SqlStore) -> None:
    """(SQL backends: ClickHouse prices at ingest only.) A span stored before its model had a
    price (here: no price source knew it) is priced by the backfill once one does."""
    tid = _tid()
    store.prices = StaticPrices({})  # type: ignore[attr-defined]
    store.write_batch([_run(tid)], [_llm(tid, "a" * 16, "m-small", TokenUsage(1_000_000, 0))])
    assert (r := store.get_run(tid)) is not None and r.cost_usd is None and r.unpriced_calls == 1
    result = backfill_costs(store, PRICES)
    assert (result.spans_priced, result.runs_recounted) == (1, 1)
    assert (r := store.get_run(tid)) is not None and r.cost_usd == pytest.approx(1.0)
    assert r.unpriced_calls == 0
    assert backfill_costs(store, PRICES).spans_seen == 0


def test_the_partial_usage_index_serves_the_run_sums(store: SqlStore) -> None:
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            plan = " ".join(
                str(r[-1])
                for r in conn.execute(
                    text(
                        "EXPLAIN QUERY PLAN SELECT trace_id, SUM(input_tokens), SUM(cost_usd)"
                        " FROM spans WHERE input_tokens IS NOT NULL AND trace_id IN ('a', 'b')"
                        " GROUP BY trace_id"
                    )
                )
            )
            assert "ix_spans_usage" in plan
        else:
            names = {
                r[0]
                for r in conn.execute(
                    text("SELECT indexname FROM pg_indexes WHERE tablename = 'spans'")
                )
            }
            assert "ix_spans_usage" in names
