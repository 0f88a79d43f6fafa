"""Spans per second written by SqlStore.write_batch to SQLite, against raw sqlite3
executemany of the same rows into the same schema (same indexes), in the same run.
Timed in CPU seconds of this process (``time.process_time``): steadier than wall time on a
shared machine; rates are per CPU-second.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from agentdeck.core.trace.model import (
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine
from agentdeck.store.sql_traces import span_row

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, emit

N = int(os.environ.get("BENCH_SPANS", "50000"))
BATCH = 10_000


def make_spans(n: int) -> list[Span]:
    out = []
    tid = new_trace_id()
    for i in range(n):
        if i % 10 == 0:
            tid = new_trace_id()
        kind = SpanKind.TOOL if i % 2 else SpanKind.LLM
        out.append(
            Span(
                trace_id=tid,
                span_id=new_span_id(),
                parent_id=None,
                name="lookup_order" if kind is SpanKind.TOOL else "chat",
                kind=kind,
                start_ns=time.time_ns(),
                end_ns=time.time_ns() + 1000,
                seq=i % 10,
                status=SpanStatus.OK,
                inputs={"args": {"order_id": f"ORD-{i:05d}"}},
                outputs={"result": {"status": "shipped", "amount": 42.5}},
                attributes={"tool.name": "lookup_order", "tool.args_valid": True}
                if kind is SpanKind.TOOL
                else {"llm.model": "m"},
                usage=None if kind is SpanKind.TOOL else TokenUsage(120, 30),
            )
        )
    return out


def bench_store(spans: list[Span], db: Path) -> float:
    store = SqlStore(create_store_engine(f"sqlite:///{db}"))
    t0 = time.process_time()
    for i in range(0, len(spans), BATCH):
        store.write_batch([], spans[i : i + BATCH])
    dt = time.process_time() - t0
    store.close()
    return len(spans) / dt


def bench_raw(spans: list[Span], db: Path, schema_from: Path) -> float:
    src = sqlite3.connect(schema_from)
    ddl = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name='spans' AND sql IS NOT NULL"
        )
    ]
    src.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for stmt in ddl:
        conn.execute(stmt)
    rows = [span_row(s) for s in spans]  # same serialization work as the store does
    cols = list(rows[0])
    sql = f"INSERT OR IGNORE INTO spans ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    t0 = time.process_time()
    for i in range(0, len(spans), BATCH):
        conn.execute("BEGIN")
        conn.executemany(sql, [tuple(r[c] for c in cols) for r in rows[i : i + BATCH]])
        conn.execute("COMMIT")
    dt = time.process_time() - t0
    conn.close()
    return len(spans) / dt


def main() -> None:
    spans = make_spans(N)
    with tempfile.TemporaryDirectory() as d:
        store_rate = bench_store(spans, Path(d) / "store.db")
        # raw sqlite3 does not even serialize: give it pre-serialized rows, the store pays for JSON itself
        raw_rate = bench_raw(make_spans(N), Path(d) / "raw.db", Path(d) / "store.db")
    print(f"spans written: {N} in batches of {BATCH}")
    print(
        f"  raw sqlite3 executemany : {raw_rate:>10,.0f} spans/s (rows pre-serialized, timing excludes JSON)"
    )
    print(f"  SqlStore.write_batch    : {store_rate:>10,.0f} spans/s (includes JSON serialization)")
    print(f"  ratio store/raw         : {store_rate / raw_rate:.2f}x  (goal >= 0.5x)")
    emit(
        "store_write",
        Ratio("SqlStore.write_batch/raw sqlite3 (CPU)", store_rate / raw_rate, ">= 0.5"),
    )


if __name__ == "__main__":
    main()
