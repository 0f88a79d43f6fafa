"""Search queries at 100k and 1M spans, SQLite and PostgreSQL, against the unfiltered list of
the same page size measured in the same loop; and the memory of a full export.

The store is the scale bench's (``bench/scale_bench.py``: 9 spans a run, through the bulk
path ``write_batch``, then ANALYZE), each run also given attributes (``tags``: ``vip`` in 10 %
of runs, ``metadata.tier``, ``customer.id`` unique), a session and a user, so that attribute,
tag, metadata, user and free-text filters have dense and rare matches. Each query (limit 50)
runs ``BENCH_SEARCH_REPEATS`` times (default 15) after two warm-ups, interleaved with the
unfiltered list; printed: min / median / max wall ms and the median ratio to the list.

Export: ``agentdeck export`` (JSONL, then Parquet) of every run in a child process, whose peak
RSS (``ru_maxrss``) is compared at each size with a child that only lists 50 runs: bounded
memory means the export's excess does not grow with the store.

    python bench/search_bench.py                       # 100k and 1M spans, both backends
    python bench/search_bench.py --sizes 10000 --backends sqlite
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, emit  # noqa: E402
from scale_bench import (  # noqa: E402
    BATCH_RUNS,
    SPANS_PER_RUN,
    make_run,
    pg_backend,
    sqlite_backend,
)
from sqlalchemy import text  # noqa: E402

from agentdeck.core.trace.query import RunQuery  # noqa: E402
from agentdeck.core.trace.search_plan import search_query  # noqa: E402
from agentdeck.store import SqlStore  # noqa: E402

REPEATS = int(os.environ.get("BENCH_SEARCH_REPEATS", "15"))
TIERS = ("gold", "silver", "bronze")

QUERIES = {
    "text, every run (shipped)": "shipped",
    "text, one run (ORD-0000777)": "ORD-0000777",
    "text prefix (shipp*)": "shipp*",
    "text phrase": '"where is order"',
    "tag, 10% (tag:vip)": "tag:vip",
    "attr, one run": "attr.customer.id:c-777",
    "metadata, 33%": "metadata.tier:gold",
    "user, one in 1000": "user:u-42",
    "latency range": "latency>=9ms",
    "agent + tag + text": "agent:support-bot tag:vip shipped",
    "negation (-tag:vip)": "-tag:vip",
    "OR of rare": "user:u-7 OR attr.customer.id:c-99",
}


def grow(store: SqlStore, have: int, want: int) -> None:
    for lo in range(have, want, BATCH_RUNS):
        made = [make_run(i) for i in range(lo, min(want, lo + BATCH_RUNS))]
        runs = [
            replace(r, user_id=f"u-{i % 1000}", session_id=f"s-{i // 4}",
                    attributes={"tags": ["vip"] if i % 10 == 0 else ["std"],
                                "metadata": {"tier": TIERS[i % 3]}, "customer.id": f"c-{i}"})
            for i, (r, _) in zip(range(lo, lo + len(made)), made, strict=True)
        ]  # fmt: skip
        store.write_batch([], [s for _, spans in made for s in spans])
        store.write_batch(runs, [])
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def query_fns(store: SqlStore) -> dict[str, Callable[[], object]]:
    """The unfiltered list and each search of :data:`QUERIES`, limit 50."""
    base = RunQuery(limit=50)
    fns: dict[str, Callable[[], object]] = {"unfiltered list": lambda: store.find_runs(base)}
    for label, q in QUERIES.items():
        rq = search_query(base, q)
        fns[label] = lambda rq=rq: store.find_runs(rq)  # type: ignore[misc]
    return fns


def timed(fns: dict[str, Callable[[], object]]) -> dict[str, list[float]]:
    """Each function ``REPEATS`` times after two warm-ups, interleaved; wall ms."""
    for fn in fns.values():
        fn()
        fn()
    out: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(REPEATS):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - t0) * 1000)
    return out


_CHILD = """
import resource, sys, time
sys.path.insert(0, {src!r})
from agentdeck.store.engine import create_store_engine
from agentdeck.store import SqlStore
from agentdeck.core.trace.query import RunQuery
store = SqlStore(create_store_engine({url!r}, schema={schema!r}), migrate=False)
t0 = time.perf_counter()
mode = {mode!r}
if mode.startswith("list"):
    if mode == "list+pyarrow":
        import pyarrow.parquet
    store.find_runs(RunQuery(limit=50))
    n = 50
else:
    from agentdeck.tracing.lifecycle.export import export_jsonl, export_parquet
    from pathlib import Path
    if mode == "jsonl":
        with open({out!r}, "wb") as f:
            n = export_jsonl(store, RunQuery(), f).spans
    else:
        n = export_parquet(store, RunQuery(), Path({out!r})).spans
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, n, time.perf_counter() - t0)
"""


def child_rss(url: str, schema: str | None, mode: str, out: str) -> tuple[int, int, float]:
    code = _CHILD.format(src=str(ROOT / "src"), url=url, schema=schema, mode=mode, out=out)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    kib, n, secs = res.stdout.split()
    return int(kib), int(n), float(secs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--no-export", action="store_true")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    ratios: list[Ratio] = []
    for name in args.backends.split(","):
        factory = {"sqlite": sqlite_backend, "postgres": pg_backend}[name]
        try:
            cm = factory()
            backend = cm.__enter__()
        except Exception as exc:  # PostgreSQL unreachable: say so, go on
            print(f"{name}: skipped ({type(exc).__name__}: {str(exc).splitlines()[0]})")
            continue
        try:
            store, have = backend.store, 0
            url = store.engine.url.render_as_string(hide_password=False)
            schema = None
            if name == "postgres":
                with store.engine.connect() as conn:
                    schema = conn.exec_driver_sql("SELECT current_schema()").scalar_one()
            for n_spans in sizes:
                want = n_spans // SPANS_PER_RUN
                t0 = time.perf_counter()
                grow(store, have, want)
                have = want
                print(f"\n{name} {n_spans:,} spans ({want:,} runs): loaded in "
                      f"{time.perf_counter() - t0:.0f} s, {backend.size() / n_spans:.0f} B/span",
                      flush=True)  # fmt: skip
                fns = query_fns(store)
                times = timed(fns)
                ref = statistics.median(times["unfiltered list"])
                print(
                    f"{'query (limit 50)':<30}{'min':>8}{'median':>8}{'max':>8}{'/list':>8}  matches"
                )
                for label, ms in times.items():
                    med = statistics.median(ms)
                    hits = len(fns[label]())  # type: ignore[arg-type]
                    print(f"{label:<30}{min(ms):>8.2f}{med:>8.2f}{max(ms):>8.2f}"
                          f"{med / ref:>7.1f}x  {hits}")  # fmt: skip
                    if label != "unfiltered list":
                        ratios.append(
                            Ratio(f"{name} {n_spans} {label} / list", med / ref, "report")
                        )
                if not args.no_export:
                    with tempfile.TemporaryDirectory() as d:
                        for mode in ("jsonl", "parquet"):
                            base_mode = "list" if mode == "jsonl" else "list+pyarrow"
                            rss0, _, _ = child_rss(url, schema, base_mode, "")
                            out = str(Path(d) / f"x.{mode}")
                            rss, n, secs = child_rss(url, schema, mode, out)
                            print(f"export {mode}: {n:,} spans in {secs:.1f} s, peak RSS "
                                  f"{rss / 1024:.0f} MiB (a 50-run list, same imports: {rss0 / 1024:.0f} MiB, "
                                  f"excess {(rss - rss0) / 1024:.0f} MiB)", flush=True)  # fmt: skip
        finally:
            cm.__exit__(None, None, None)
    emit("search", *ratios)


if __name__ == "__main__":
    main()
