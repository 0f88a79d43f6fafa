"""Spans per CPU-second the SDK's exporter delivers into SQLite, against raw sqlite3
executemany of the same rows into the same schema, in the same run.

Run: ``.venv/bin/python bench/exporter_sqlite_bench.py`` (``BENCH_SPANS`` sets the count).

Clocks are CPU time, not wall time (steadier on a shared machine), and charge all the work:

- **exporter**: batches of 10k ``@agentdeck.tool`` calls are recorded while the store is held
  shut, then released; the figure is the exporter thread's own CPU time over the whole session:
  building each span (including those it built while the calls were being recorded, before
  the store was released), serializing it to JSON, ``SqlStore.write_batch`` and commit. (An
  earlier version started a wall clock at the release, so the spans the exporter had already
  built, about a quarter of each chunk, were not charged.) This is the figure the goal is about.
- **end to end**: the same calls recorded and delivered concurrently; the process's CPU time
  (caller and exporter threads) from the first call to the end of ``flush()``.

The baseline writes the very rows the exporter stored (read back, so they are identical), already
serialized, with ``executemany`` in 10k-row transactions, timed by its thread's CPU time.
Goal: exporter at least 0.5x raw.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ratios import Ratio, cpu, emit, thread_cpu
from sdk_overhead_bench import SPEC, noop  # the same tool and pinned schema

from agentdeck.core.trace.model import Run, Span
from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine
from agentdeck.tracing.sdk import api as sdk

N = int(os.environ.get("BENCH_SPANS", "100000"))
CHUNK = 10_000


class HeldSink:
    """The store, held shut while calls are recorded, so that they wait in the queue."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.gate = threading.Event()

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.gate.wait()
        self.store.write_batch(runs, spans)


def record(wrapped: Callable[..., Any], calls: int) -> None:
    for i in range(0, calls, 100):  # 100 tool calls a run, like a busy agent
        with sdk.run(agent=SPEC, input=i):
            for j in range(100):
                wrapped("Paris", j + 1)


def _exporter_thread(before: set[threading.Thread]) -> threading.Thread:
    (thread,) = [t for t in threading.enumerate() if t not in before and "exporter" in t.name]
    return thread


def exporter_rate(db: Path, held: bool) -> float:
    """Spans per CPU-second: of the exporter thread (``held``), or of the process (end to end)."""
    store = SqlStore(create_store_engine(f"sqlite:///{db}"))
    sink = HeldSink(store)
    wrapped = sdk.tool(noop)
    with tempfile.TemporaryDirectory() as spill:
        before = set(threading.enumerate())
        sdk.init(
            sink=sink, spill_dir=spill, queue_size=1 << 17, batch_size=4096, schedule_delay=0.05
        )
        if held:
            exporter = _exporter_thread(before)
            c0 = thread_cpu(exporter)
            for _ in range(N // CHUNK):
                sink.gate.clear()
                record(wrapped, CHUNK)
                sink.gate.set()
                assert sdk.flush(300), "exporter did not drain"
            elapsed = thread_cpu(exporter) - c0
        else:
            sink.gate.set()
            c0 = cpu()
            record(wrapped, N)
            assert sdk.flush(300), "exporter did not drain"
            elapsed = cpu() - c0
        stats = sdk.stats()
        sdk.shutdown()
    assert stats is not None and stats.dropped == 0 and stats.lost == 0, stats
    store.close()
    return (N + N // 100) / elapsed  # tool spans + one agent span per run


def raw_rate(src_db: Path, dst_db: Path) -> tuple[float, int]:
    src = sqlite3.connect(src_db)
    ddl = [
        r[0]
        for r in src.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name='spans' AND sql IS NOT NULL"
        )
    ]
    rows = src.execute("SELECT * FROM spans").fetchall()
    cols = [d[0] for d in src.execute("SELECT * FROM spans LIMIT 1").description]
    src.close()
    conn = sqlite3.connect(dst_db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for stmt in ddl:
        conn.execute(stmt)
    sql = f"INSERT OR IGNORE INTO spans ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    t0 = time.thread_time()
    for i in range(0, len(rows), CHUNK):
        conn.execute("BEGIN")
        conn.executemany(sql, rows[i : i + CHUNK])
        conn.execute("COMMIT")
    dt = time.thread_time() - t0
    conn.close()
    return len(rows) / dt, len(rows)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        exporter = exporter_rate(Path(d) / "held.db", held=True)
        end_to_end = exporter_rate(Path(d) / "live.db", held=False)
        raw, count = raw_rate(Path(d) / "held.db", Path(d) / "raw.db")
    print(f"spans: {count} ({N} tool calls in runs of 100)")
    print(f"  raw sqlite3 executemany (pre-serialized rows)  : {raw:>10,.0f} spans/CPU-s")
    print(f"  agentdeck exporter -> SqlStore (exporter CPU)  : {exporter:>10,.0f} spans/CPU-s")
    print(f"  agentdeck @tool calls -> SqlStore, end to end  : {end_to_end:>10,.0f} spans/CPU-s")
    print(
        f"  ratio exporter/raw                             : {exporter / raw:.2f}x  (goal >= 0.5x)"
    )
    print(f"  ratio end-to-end/raw                           : {end_to_end / raw:.2f}x")
    emit(
        "exporter_sqlite",
        Ratio("exporter/raw sqlite3 (CPU)", exporter / raw, ">= 0.5"),
        Ratio("end-to-end/raw sqlite3 (CPU)", end_to_end / raw),
    )


if __name__ == "__main__":
    main()
