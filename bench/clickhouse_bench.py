"""The ClickHouse trace store (chdb in-process) against SQLite in the same run: ingest through
``write_batch`` and the runs list with its filters, at ``BENCH_CH_SPANS`` spans (default 1M,
ten spans a run).

    python bench/clickhouse_bench.py                 # 1M spans
    BENCH_CH_SPANS=100000 python bench/clickhouse_bench.py

Ingest is timed in wall seconds and in CPU seconds of this process (chdb's threads are in this
process, so both sides count the same way); each query is the median of ``REPS`` wall-clock
runs after one warm-up. The store sizes on disk are reported.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agentdeck.core.trace.model import (
    Run,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore
from agentdeck.store.clickhouse import open_clickhouse_traces
from agentdeck.store.engine import create_store_engine
from agentdeck.store.protocol import TraceStore

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, cpu, emit

N = int(os.environ.get("BENCH_CH_SPANS", "1000000"))
PER_RUN = 10
BATCH_RUNS = 1000
REPS = 15
T0 = 1_700_000_000_000_000_000


def batches(n_spans: int) -> Iterator[tuple[list[Run], list[Span]]]:
    """Runs of ten spans (an LLM call and tool calls; every 20th run has a failed call),
    ``BATCH_RUNS`` runs a batch, the same content on every call."""
    n_runs = n_spans // PER_RUN
    for first in range(0, n_runs, BATCH_RUNS):
        runs, spans = [], []
        for r in range(first, min(first + BATCH_RUNS, n_runs)):
            tid = f"{r:08x}" + new_trace_id()[8:]
            start = T0 + r * 1_000_000
            failed = r % 20 == 0
            runs.append(
                Run(tid, f"agent-{r % 7}", 1, "sha256:aa", "production", None, start, start + 9000,
                    SpanStatus.ERROR if failed else SpanStatus.OK)
            )  # fmt: skip
            for i in range(PER_RUN):
                tool = i % 2 == 1
                spans.append(
                    Span(
                        tid,
                        new_span_id(),
                        None,
                        f"step {i}",
                        SpanKind.TOOL if tool else SpanKind.LLM,
                        start + i * 900,
                        start + i * 900 + 800,
                        seq=i,
                        status=SpanStatus.ERROR if failed and i == 1 else SpanStatus.OK,
                        inputs={"args": {"order_id": f"ORD-{r:07d}"}},
                        outputs={"result": {"status": "shipped", "amount": 42.5}},
                        attributes={"tool.name": f"tool_{(r + i) % 13}"}
                        if tool
                        else {"llm.model": "m"},
                        usage=None if tool else TokenUsage(120, 30),
                    )
                )
        yield runs, spans


def ingest(store: TraceStore) -> tuple[float, float]:
    wall, c = time.perf_counter(), cpu()
    for runs, spans in batches(N):
        store.write_batch(runs, spans)
    return time.perf_counter() - wall, cpu() - c


def median_ms(fn: Callable[[], object]) -> float:
    fn()
    times = []
    for _ in range(REPS):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def queries(store: TraceStore) -> dict[str, float]:
    some = f"{(N // PER_RUN) // 2:08x}"
    tid = store.trace_ids_with_prefix(some, 1)[0]
    return {
        "list limit=50": median_ms(lambda: store.find_runs(RunQuery(limit=50))),
        "list status=error": median_ms(
            lambda: store.find_runs(RunQuery(status=SpanStatus.ERROR, limit=50))
        ),
        "list agent": median_ms(lambda: store.find_runs(RunQuery(agent_name="agent-3", limit=50))),
        "list has_errors": median_ms(lambda: store.find_runs(RunQuery(has_errors=True, limit=50))),
        "list tool": median_ms(lambda: store.find_runs(RunQuery(tool="tool_5", limit=50))),
        "run by id + spans": median_ms(lambda: (store.get_run(tid), store.get_spans(tid))),
        "run by prefix": median_ms(lambda: store.trace_ids_with_prefix(tid[:12])),
    }


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        sqlite = SqlStore(create_store_engine(f"sqlite:///{base / 'sqlite' / 'bench.db'}"))
        ch = open_clickhouse_traces(f"chdb://{base / 'chdb'}?database=bench")
        results = {}
        for name, store in (("sqlite", sqlite), ("clickhouse", ch)):
            wall, c = ingest(store)
            results[name] = (wall, c, queries(store))
            print(f"{name}: ingest {N:,} spans in {wall:.1f} s wall, {c:.1f} s CPU "
                  f"({N / wall:,.0f} spans/s wall)", flush=True)  # fmt: skip
        ch.conn.command("OPTIMIZE TABLE bench.runs FINAL")
        sizes = {"sqlite": du(base / "sqlite"), "clickhouse": du(base / "chdb")}
        print(f"\n{'query (median ms)':<22}{'sqlite':>10}{'clickhouse':>12}")
        for q in results["sqlite"][2]:
            print(f"{q:<22}{results['sqlite'][2][q]:>10.1f}{results['clickhouse'][2][q]:>12.1f}")
        print(f"{'bytes per span':<22}{sizes['sqlite'] / N:>10.0f}{sizes['clickhouse'] / N:>12.0f}")
        sqlite.close()
        ch.close()
    s, c = results["sqlite"], results["clickhouse"]
    emit(
        "clickhouse",
        Ratio("ingest wall sqlite/clickhouse", s[0] / c[0]),
        Ratio("list limit=50 sqlite/clickhouse", s[2]["list limit=50"] / c[2]["list limit=50"]),
        Ratio("list tool sqlite/clickhouse", s[2]["list tool"] / c[2]["list tool"]),
    )


if __name__ == "__main__":
    main()
