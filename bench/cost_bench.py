"""The ingest overhead of pricing: SqlStore.write_batch of SDK-like runs (an agent span, 3 LLM
calls with usage, 3 tool calls; the run in the same batch, as the SDK's writer sends them) on
SQLite with pricing on (genai-prices, every LLM span priced, the run's sums kept from the
``ix_spans_usage`` index) against the same writes with the cost work switched off (no span
priced, no sums: the store as it was before), in the same process, alternating, on fresh
databases. Timed in CPU seconds of this process (SQLite runs in it). Also: the pure pricing
of one span (model lookup, cached, and the arithmetic).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agentdeck.core.cost import price_span
from agentdeck.core.trace.model import (
    Run,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.prices import default_prices
from agentdeck.store import SqlStore, sql_cost, sql_traces
from agentdeck.store.engine import create_store_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, cpu, emit

RUNS = int(os.environ.get("BENCH_RUNS", "3000"))
BATCH_RUNS = 100  # 700 spans a batch
REPEATS = int(os.environ.get("BENCH_INNER", "3"))


def make_batches() -> list[tuple[list[Run], list[Span]]]:
    out = []
    t = time.time_ns()
    for _ in range(RUNS // BATCH_RUNS):
        runs, spans = [], []
        for _ in range(BATCH_RUNS):
            tid, root = new_trace_id(), new_span_id()
            t += 10_000
            spans.append(Span(tid, root, None, "support-bot", SpanKind.AGENT, t, t + 9000, seq=0))
            for i in range(3):
                spans.append(
                    Span(tid, new_span_id(), root, "chat gpt-4o-2024-08-06", SpanKind.LLM,
                         t + i * 2000, t + i * 2000 + 900, seq=2 * i + 1,
                         inputs={"messages": [{"role": "user", "content": "where is ORD-1"}]},
                         outputs={"message": {"role": "assistant", "content": "shipped"}},
                         attributes={"llm.provider": "openai", "llm.model": "gpt-4o-2024-08-06",
                                     "llm.response_model": "gpt-4o-2024-08-06"},
                         usage=TokenUsage(1200 + i, 80, cache_read_tokens=1024)))  # fmt: skip
                spans.append(
                    Span(tid, new_span_id(), root, "lookup_order", SpanKind.TOOL,
                         t + i * 2000 + 1000, t + i * 2000 + 1500, seq=2 * i + 2,
                         status=SpanStatus.OK, inputs={"args": {"order_id": "ORD-1"}},
                         outputs={"result": {"status": "shipped"}},
                         attributes={"tool.name": "lookup_order"}))  # fmt: skip
            runs.append(Run(tid, "support-bot", 1, "sha256:aa", "production", None, t, t + 9000,
                            SpanStatus.OK, root_span_id=root))  # fmt: skip
        out.append((runs, spans))
    return out


@contextmanager
def without_cost() -> Iterator[None]:
    """The store with its cost work switched off (what ingest did before it existed)."""
    price, recount = sql_cost.span_costs, sql_cost.recount_cost
    sql_cost.span_costs = lambda spans, prices: [None] * len(spans)  # type: ignore[assignment]
    sql_cost.recount_cost = lambda conn, ids: None  # type: ignore[assignment]
    try:
        yield
    finally:
        sql_cost.span_costs, sql_cost.recount_cost = price, recount


def write_all(batches: list[tuple[list[Run], list[Span]]], tmp: Path, name: str) -> float:
    store = SqlStore(create_store_engine(f"sqlite:///{tmp / name}.db"))
    store.prices = default_prices()  # type: ignore[attr-defined]
    start = cpu()
    for runs, spans in batches:
        store.write_batch(runs, spans)
    took = cpu() - start
    store.close()
    return took


def main() -> None:
    assert sql_traces.sql_cost is sql_cost
    batches = make_batches()
    n_spans = sum(len(s) for _, s in batches)
    prices = default_prices()
    llm = next(s for s in batches[0][1] if s.usage is not None)
    assert price_span(llm, prices) is not None  # warm: genai-prices imported, model cached
    on, off = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for r in range(REPEATS):
            with without_cost():
                off.append(write_all(batches, tmp, f"off{r}"))
            on.append(write_all(batches, tmp, f"on{r}"))
    ratios = [a / b for a, b in zip(on, off, strict=True)]
    n = 20_000
    start = cpu()
    for _ in range(n):
        price_span(llm, prices)
    per_span_us = (cpu() - start) / n * 1e6
    print(f"{RUNS} runs, {n_spans} spans ({RUNS * 3} LLM spans) in batches of {BATCH_RUNS} runs")
    print(
        f"without cost: {statistics.median(off):.3f} s CPU (min {min(off):.3f}, max {max(off):.3f})"
    )
    print(f"with cost:    {statistics.median(on):.3f} s CPU (min {min(on):.3f}, max {max(on):.3f})")
    print(
        f"ratio with/without: min {min(ratios):.3f}  median {statistics.median(ratios):.3f}  max {max(ratios):.3f}"
    )
    print(f"pricing one LLM span (lookup cached + arithmetic): {per_span_us:.2f} us CPU")
    emit("cost", Ratio("ingest with pricing / without", statistics.median(ratios), "<= 1.15"))


if __name__ == "__main__":
    main()
