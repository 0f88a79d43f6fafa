"""List and page queries at 10k, 100k and 1M spans (10M with ``--10m``), SQLite, PostgreSQL and
ClickHouse (chdb in-process, the trace store of ``AGENTDECK_TRACES_URL``), side by side in one
run, the same queries through the same store API.

Each backend's store grows through the bulk path (``write_batch`` of 10k-span batches, then
``ANALYZE``, as after a bulk load; ClickHouse through :func:`ch_bulk_grow`, the same rows
inserted straight into its tables in 20k-run inserts, ``--ch-write-batch`` for ``write_batch``):
the 10k store is measured, grown to 100k and measured, and so on, so every size holds the same
newest runs (older ones are added). A run has 9 spans (an agent span, 4 LLM calls, 4 tool
calls; ``lookup_order`` in ~30 % of runs), one run every 7.2 s going back from a fixed now, so
the monitor window (the last hour) holds the same 500 runs at every size. ClickHouse is
measured once the load's background merges are done. Timed, p50 wall time of ``BENCH_SCALE_REPEATS`` (default 15) after two warm-ups:

- the default list (50 newest runs) and each filter: status, has errors, denied, outcome, agent,
  env, agent and version, tool;
- page 100 by cursor (10 runs a page, the cursor of page 99 taken from paging; offset 990 for
  comparison);
- a run page by id and by a 12-character prefix (``load_trace``: the run and its spans);
- ``GET /api/v1/runs?limit=50`` and ``GET /ui/runs`` through the app (in-process ASGI);
- the monitor window: the profile of one agent's runs in the last hour (``build_stored_profile``).

Prints a table per backend (p50 ms per query per size, ratio largest/smallest) and the store
size with bytes per span. Goal (issue 17): at the largest size every query within 2x of its
time at 10k, and under 50 ms p50 on PostgreSQL.

    python bench/scale_bench.py                 # 10k, 100k, 1M spans; every backend
    python bench/scale_bench.py --10m           # and 10M (long; not in make bench)
    python bench/scale_bench.py --sizes 10000,100000 --backends sqlite
    python bench/scale_bench.py --10m --backends clickhouse   # chdb in a temp dir, ~15 min

PostgreSQL is ``AGENTDECK_TEST_PG_URL`` (default the local server, database ``test``), in a
schema of its own dropped at the end; unreachable, it is skipped with the reason.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, emit  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from agentdeck.core.trace.model import (  # noqa: E402
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
)
from agentdeck.core.trace.query import RunCursor, RunQuery, next_cursor  # noqa: E402
from agentdeck.store import SqlStore  # noqa: E402
from agentdeck.store.engine import create_store_engine  # noqa: E402

PG_URL = os.environ.get(
    "AGENTDECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPEATS = int(os.environ.get("BENCH_SCALE_REPEATS", "15"))
SPANS_PER_RUN = 9
STEP_NS = 7_200_000_000  # one run every 7.2 s: 500 runs in the last hour
NOW_NS = 1_780_000_000 * 10**9
BATCH_RUNS = 10_000 // SPANS_PER_RUN
TOOLS = ("search_kb", "get_customer", "send_email", "issue_refund", "escalate")
AGENTS = ("support-bot", "billing-bot", "triage-bot", "sales-bot", "ops-bot")
ENVS = ("production", "staging", "dev")


def _tid(i: int) -> str:
    # ids spread over the key space like random ones, yet reproducible
    return uuid.UUID(int=(i * 0x9E3779B97F4A7C15F39CC0605CEDC835) % 2**128).hex


def make_run(i: int) -> tuple[Run, list[Span]]:
    """Run ``i`` (0 is the newest) and its 9 spans."""
    tid, start = _tid(i), NOW_NS - i * STEP_NS
    agent = AGENTS[i % len(AGENTS)]
    failed = i % 23 == 0
    denied = i % 97 == 0
    spans = [
        Span(tid, f"{i % 2**48:012x}0000", None, agent, SpanKind.AGENT, start, start + 9_000_000,
             seq=0, inputs={"question": f"where is order ORD-{i:07d}?"},
             outputs={"answer": "it shipped yesterday"})
    ]  # fmt: skip
    for k in range(4):
        t0 = start + 1_000_000 + k * 2_000_000
        spans.append(
            Span(tid, f"{i % 2**48:012x}{1 + 2 * k:04x}", spans[0].span_id, "chat", SpanKind.LLM,
                 t0, t0 + 900_000, seq=1 + 2 * k, attributes={"llm.model": "gpt-4o-mini"},
                 usage=TokenUsage(420 + k, 60 + k))
        )  # fmt: skip
        tool = "lookup_order" if (k == 0 and i % 10 < 3) else TOOLS[(i + k) % len(TOOLS)]
        bad = (failed or denied) and k == 3
        attrs: dict[str, Any] = {"tool.name": tool}
        if denied and k == 3:
            attrs["tool.denied"] = True
        spans.append(
            Span(tid, f"{i % 2**48:012x}{2 + 2 * k:04x}", spans[0].span_id, tool, SpanKind.TOOL,
                 t0 + 950_000, t0 + 1_500_000, seq=2 + 2 * k,
                 status=SpanStatus.ERROR if bad else SpanStatus.OK,
                 error="denied by policy" if bad else None,
                 inputs={"args": {"order_id": f"ORD-{i:07d}"}},
                 outputs=None if bad else {"result": {"status": "shipped"}}, attributes=attrs)
        )  # fmt: skip
    run = Run(
        trace_id=tid, agent_name=agent, agent_version=1 + i % 3,
        agent_digest=f"sha256:{agent}-{1 + i % 3}", env=ENVS[(i // 5) % 3], deployment_id=None,
        start_ns=start, end_ns=start + 9_000_000,
        status=SpanStatus.ERROR if i % 31 == 0 else SpanStatus.OK,
        input={"question": f"where is order ORD-{i:07d}?"}, output={"answer": "shipped"},
        root_span_id=spans[0].span_id,
        outcome=(Outcome.SUCCESS, Outcome.FAILURE, None)[i % 3],
    )  # fmt: skip
    return run, spans


def grow(store: SqlStore, have: int, want: int) -> None:
    """Runs ``have .. want-1`` through ``write_batch`` (spans, then their runs, as the SDK
    sends them), then ANALYZE."""
    t0 = time.perf_counter()
    for lo in range(have, want, BATCH_RUNS):
        made = [make_run(i) for i in range(lo, min(want, lo + BATCH_RUNS))]
        store.write_batch([], [s for _, spans in made for s in spans])
        store.write_batch([r for r, _ in made], [])
        if (lo // BATCH_RUNS) % 100 == 99:  # a long load says how far it is
            print(f"    {lo + BATCH_RUNS:,} / {want:,} runs, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


CH_BULK_RUNS = 20_000
"""Runs per insert of the ClickHouse bulk load: one part per table each (merged in the
background), as a store loaded over time has many."""


def ch_bulk_grow(traces: Any, have: int, want: int) -> None:
    """Runs ``have .. want-1`` straight into the ClickHouse tables (``ClickHouseTraces``),
    ``CH_BULK_RUNS`` runs an insert: the rows ``write_batch`` writes for the same spans, then
    their runs (``spans``; ``run_versions``, ``runs_by_time`` and ``runs``: one version of
    each run, its failed and denied tool calls, tokens and cost summed from its spans, the
    tool names of its spans), without the reads ``write_batch`` makes to merge a run with its
    stored versions (none here: every run is new). ~20x faster than ``write_batch`` on chdb."""
    from agentdeck.prices import default_prices
    from agentdeck.store.clickhouse.schema import RUN_COLUMNS, SPAN_COLUMNS
    from agentdeck.store.sql_cost import span_costs
    from agentdeck.store.sql_traces import run_tuple, span_tuple

    run_names = [n for n, _ in RUN_COLUMNS]
    span_names = [n for n, _ in SPAN_COLUMNS]
    prices = traces.prices or default_prices()
    db = traces.database
    t0 = time.perf_counter()
    for lo in range(have, want, CH_BULK_RUNS):
        span_rows: list[dict[str, Any]] = []
        run_rows: list[dict[str, Any]] = []
        index_rows: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        ver = time.time_ns()
        for i in range(lo, min(want, lo + CH_BULK_RUNS)):
            run, spans = make_run(i)
            rows = [
                dict(zip(span_names, span_tuple(s, c), strict=True))
                for s, c in zip(spans, span_costs(spans, prices), strict=True)
            ]
            span_rows += rows
            # as write_batch counts them from the stored spans (traces._counts, cost_sums)
            failed = [r for r in rows if r["kind"] == "tool" and r["status"] == "error"]
            used = [r for r in rows if r["input_tokens"] is not None]
            priced = [r["cost_usd"] for r in used if r["cost_usd"] is not None]
            run = replace(
                run,
                tool_errors=len(failed),
                denied_calls=sum('"tool.denied":true' in (r["attributes"] or "") for r in failed),
                input_tokens=sum(r["input_tokens"] for r in used),
                output_tokens=sum(r["output_tokens"] or 0 for r in used),
                cost_usd=(sum(priced) if priced else None) if used else 0.0,
                unpriced_calls=len(used) - len(priced),
            )
            row = dict(zip(run_names, run_tuple(run)[: len(run_names)], strict=True))
            row["tool_errors"], row["denied_calls"], row["ver"] = (
                run.tool_errors,
                run.denied_calls,
                ver,
            )
            tools = sorted({s.tool_name for s in spans if s.tool_name is not None})
            run_rows.append(row)
            index_rows.append({**row, "tools": tools})
            versions.append(
                {"trace_id": run.trace_id, "ver": ver, "start_ns": run.start_ns, "tools": tools}
            )
        traces.conn.insert(f"{db}.spans", span_rows)
        traces.conn.insert(f"{db}.run_versions", versions)
        traces.conn.insert(f"{db}.runs_by_time", index_rows)
        traces.conn.insert(f"{db}.runs", run_rows)
        if (lo // CH_BULK_RUNS) % 10 == 9:
            print(f"    {lo + CH_BULK_RUNS:,} / {want:,} runs, {time.perf_counter() - t0:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip


def p50_ms(fn: Callable[[], object]) -> float:
    fn()
    fn()
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


@dataclass
class Backend:
    name: str
    store: SqlStore
    size: Callable[[], int]
    cleanup: Callable[[], None]
    load: Callable[[int, int], None] | None = None  # runs have..want-1 (default: grow)


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    with tempfile.TemporaryDirectory() as d:
        db = Path(d) / "scale.db"
        store = SqlStore(create_store_engine(f"sqlite:///{db}"))

        def size() -> int:
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            return sum(p.stat().st_size for p in Path(d).iterdir())

        yield Backend("sqlite", store, size, store.close)
        store.close()


@contextmanager
def pg_backend() -> Iterator[Backend]:
    schema = f"scale_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = SqlStore(create_store_engine(PG_URL, schema=schema))

    def size() -> int:
        with store.engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                        " JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = :s AND c.relkind = 'r'"
                    ),
                    {"s": schema},
                ).scalar_one()
            )

    try:
        yield Backend("postgres", store, size, store.close)
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def clickhouse_backend(bulk: bool = True) -> Iterator[Backend]:
    """ClickHouse's own engine in-process (chdb) for runs and spans, the control plane (keys)
    in SQLite: the store ``AGENTDECK_TRACES_URL=chdb://...`` opens. Loaded by
    :func:`ch_bulk_grow` (``bulk``) or through ``write_batch``."""
    from agentdeck.store.clickhouse import open_composite

    # chdb merges parts in the background: a merge may still write while the folder goes
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as d:
        store = open_composite(
            create_store_engine(f"sqlite:///{d}/control.db"), f"chdb://{d}/chdb?database=scale"
        )

        def size() -> int:
            store.traces.conn.command("OPTIMIZE TABLE scale.runs FINAL")
            # the background merges of the load done: measured on the store at rest
            for _ in range(600):
                if not store.traces.conn.rows(
                    "SELECT 1 AS x FROM system.merges WHERE database = 'scale' LIMIT 1"
                ):
                    break
                time.sleep(1)
            return sum(p.stat().st_size for p in (Path(d) / "chdb").rglob("*") if p.is_file())

        try:
            load = (lambda have, want: ch_bulk_grow(store.traces, have, want)) if bulk else None
            yield Backend("clickhouse", store, size, store.close, load)
        finally:
            store.close()


def queries(store: SqlStore, n_runs: int, client: Any) -> dict[str, Callable[[], object]]:
    from agentdeck.monitor.profiles import RunSelection, build_stored_profile
    from agentdeck.tracing.analysis.queries import load_trace

    cursor: RunCursor | None = None
    for _ in range(99):  # the cursor of page 99, 10 runs a page
        cursor = next_cursor(store.find_runs(RunQuery(limit=10, after=cursor)), 10)
    assert cursor is not None
    some = _tid(n_runs // 2)
    now = datetime.fromtimestamp(NOW_NS / 1e9, UTC) + timedelta(seconds=1)
    window = RunSelection("support-bot", None, "production", now - timedelta(hours=1), now)

    def q(**kw: Any) -> Callable[[], object]:
        return lambda: store.find_runs(RunQuery(limit=50, **kw))

    def get(path: str) -> Callable[[], object]:
        def call() -> object:
            r = client.get(path)
            assert r.status_code == 200, r.text
            return r

        return call

    return {
        "default list": q(),
        "status=error": q(status=SpanStatus.ERROR),
        "has_errors": q(has_errors=True),
        "denied": q(denied=True),
        "outcome=failure": q(outcome=Outcome.FAILURE),
        "agent": q(agent_name="billing-bot"),
        "env": q(env="staging"),
        "agent+version": q(agent_name="billing-bot", agent_version=2),
        "tool (30% of runs)": q(tool="lookup_order"),
        "page 100 (cursor)": lambda: store.find_runs(RunQuery(limit=10, after=cursor)),
        "page 100 (offset)": lambda: store.find_runs(RunQuery(limit=10, offset=990)),
        "run page by id": lambda: load_trace(store, some),
        "run page by prefix": lambda: load_trace(store, some[:12]),
        "API /api/v1/runs": get("/api/v1/runs?limit=50"),
        "UI /ui/runs": get("/ui/runs"),
        "monitor window (1 h)": lambda: build_stored_profile(store, window),
    }


def measure(
    backend: Backend, sizes: list[int]
) -> tuple[dict[str, dict[int, float]], dict[int, tuple[int, float]]]:
    from fastapi.testclient import TestClient

    from agentdeck.registry.keys import create_key
    from agentdeck.server.app import create_app
    from agentdeck.server.settings import ServerSettings

    store = backend.store
    token = create_key(store, "bench-read", ["read"], "bench").token
    table: dict[str, dict[int, float]] = {}
    sizes_out: dict[int, tuple[int, float]] = {}
    have = 0
    with TestClient(create_app(store, ServerSettings())) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        for n_spans in sizes:
            want = n_spans // SPANS_PER_RUN
            t0 = time.perf_counter()
            if backend.load is not None:
                backend.load(have, want)
            else:
                grow(store, have, want)
            have = want
            load_s = time.perf_counter() - t0
            nbytes = backend.size()
            sizes_out[n_spans] = (nbytes, load_s)
            print(f"  {backend.name} {n_spans:>10,} spans: loaded in {load_s:.0f} s, "
                  f"{nbytes / 2**20:.1f} MiB, {nbytes / n_spans:.0f} B/span", flush=True)  # fmt: skip
            for name, fn in queries(store, want, client).items():
                table.setdefault(name, {})[n_spans] = p50_ms(fn)
    return table, sizes_out


def report(name: str, sizes: list[int], table: dict[str, dict[int, float]]) -> list[Ratio]:
    head = "".join(f"{_label(n):>10}" for n in sizes)
    print(f"\n{name}: p50 ms ({REPEATS} repeats)")
    print(f"{'query':<24}{head}  {'largest/10k':>12}")
    ratios = []
    for q, row in table.items():
        ratio = row[sizes[-1]] / row[sizes[0]]
        cells = "".join(f"{row[n]:>10.2f}" for n in sizes)
        print(f"{q:<24}{cells}  {ratio:>11.2f}x")
        if not q.endswith("(offset)"):
            ratios.append(
                Ratio(f"{name} {q} {_label(sizes[-1])}/{_label(sizes[0])}", ratio, "<= 2")
            )
    return ratios


def _label(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 else f"{n // 1000}k"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--10m", dest="ten_m", action="store_true", help="also 10M spans (long)")
    ap.add_argument("--sizes", help="comma-separated span counts (default 10k,100k,1M)")
    ap.add_argument("--backends", default="sqlite,postgres,clickhouse")
    ap.add_argument(
        "--ch-write-batch",
        action="store_true",
        help="load ClickHouse through write_batch, not the bulk loader (slow)",
    )
    args = ap.parse_args()
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [10_000, 100_000, 1_000_000] + ([10_000_000] if args.ten_m else [])
    )
    ratios: list[Ratio] = []
    for name in args.backends.split(","):
        factory = {
            "sqlite": sqlite_backend,
            "postgres": pg_backend,
            "clickhouse": lambda: clickhouse_backend(bulk=not args.ch_write_batch),
        }[name]
        try:
            cm = factory()
            backend = cm.__enter__()
        except Exception as exc:  # PostgreSQL unreachable: say so, go on
            print(f"{name}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        try:
            table, stored = measure(backend, sizes)
        finally:
            cm.__exit__(None, None, None)
        ratios += report(name, sizes, table)
        print("store size: " + ", ".join(
            f"{_label(n)} {b / 2**20:.1f} MiB ({b / n:.0f} B/span)" for n, (b, _) in stored.items()
        ))  # fmt: skip
        if name == "postgres":
            slow = {q: row[sizes[-1]] for q, row in table.items() if row[sizes[-1]] >= 50}
            print(f"goal under 50 ms p50 at {_label(sizes[-1])}: "
                  + ("met" if not slow else "NOT met: " + ", ".join(
                      f"{q} {ms:.0f} ms" for q, ms in slow.items())))  # fmt: skip
    worst = max(ratios, key=lambda r: r.value, default=None)
    if worst is not None:
        print(f"\nworst ratio largest/smallest: {worst.name} {worst.value:.2f}x (goal <= 2)")
    emit("scale", *ratios)


if __name__ == "__main__":
    main()
