"""Migration 0016_run_cost on both backends: runs stored before it get their token sums, are
marked unpriced until ``agentdeck cost backfill`` prices their spans, and it downgrades."""

from __future__ import annotations

from typing import Any

import pytest
from migration_support import alembic
from sqlalchemy import column, insert, inspect, table
from sqlalchemy.engine import Engine

from agentdeck.core.cost import ModelPrice, Rate
from agentdeck.core.trace.model import Span, SpanKind, TokenUsage
from agentdeck.prices import StaticPrices
from agentdeck.store import SqlStore
from agentdeck.store import migrate as migrate_mod
from agentdeck.store.sql_traces import span_row
from agentdeck.store.tables import spans as spans_table
from agentdeck.tracing.analysis.cost import backfill_costs

_NEW = "0016_run_cost"


def _llm(tid: str, sid: str, model: str, usage: TokenUsage) -> dict[str, Any]:
    s = Span(
        tid, sid, None, "chat", SpanKind.LLM, 1, 2, attributes={"llm.model": model}, usage=usage
    )
    return {k: v for k, v in span_row(s).items() if k != "cost_usd"}


def test_runs_stored_before_get_token_sums_and_stay_unpriced_until_the_backfill(
    bare_engine: Engine,
) -> None:
    from alembic import command

    before = (migrate_mod.script_heads() - {_NEW}) | {"0013_run_sessions"}
    alembic(bare_engine, command.upgrade, *sorted(before))
    assert "cost_usd" not in {c["name"] for c in inspect(bare_engine).get_columns("runs")}
    with_llm, without = "a" * 32, "b" * 32
    runs = table(
        "runs", column("trace_id"), column("agent_name"), column("start_ns"), column("status")
    )
    with bare_engine.begin() as conn:
        conn.execute(
            insert(runs),
            [
                {"trace_id": t, "agent_name": "bot", "start_ns": 1, "status": "ok"}
                for t in (with_llm, without)
            ],
        )
        conn.execute(
            insert(spans_table),
            [
                _llm(with_llm, "1" * 16, "m", TokenUsage(1_000_000, 10)),
                _llm(with_llm, "2" * 16, "m", TokenUsage(0, 1_000_000)),
            ],
        )
    store = SqlStore(bare_engine)  # migrates to every head
    assert migrate_mod.current_revisions(bare_engine) == migrate_mod.script_heads()
    old = store.get_run(with_llm)
    assert old is not None
    assert (old.input_tokens, old.output_tokens, old.total_tokens) == (
        1_000_000,
        1_000_010,
        2_000_010,
    )
    assert old.cost_usd is None and old.unpriced_calls == 2
    plain = store.get_run(without)
    assert plain is not None and plain.cost_usd == 0.0 and plain.unpriced_calls == 0

    prices = StaticPrices({"m": ModelPrice("m", Rate(1.0), Rate(2.0))})
    assert backfill_costs(store, prices).spans_priced == 2
    priced = store.get_run(with_llm)
    assert priced is not None and priced.unpriced_calls == 0
    assert priced.cost_usd == pytest.approx(1.0 + 10 * 2e-6 + 2.0)

    alembic(bare_engine, command.downgrade, f"{_NEW}@-1")
    assert "cost_usd" not in {c["name"] for c in inspect(bare_engine).get_columns("spans")}
