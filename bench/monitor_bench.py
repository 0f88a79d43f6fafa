"""Monitoring service throughput on SQLite, with ratios measured in the same run.

1. Per-run checks: runs checked per second by ``on_runs_stored`` (read the run and its spans,
   extract the view, check it against the pinned spec and a baseline, store findings and the
   run summary), and by ``RunChecker.check_and_store`` on runs already in memory.
2. A window check over ``BENCH_RUNS`` (default 100k) runs of generated spans: the
   ``check_window`` wall time (read the summaries, build the window profile, compare), against
   a plain SQL scan of the same runs' spans (``SELECT`` every span row of the window, no JSON
   parsing), and against extracting views from spans (``RunView.from_run``, measured on a
   sample and scaled).

Generating the runs (the synthetic support agent of tests/monitor/synthetic_runs.py) and
writing them with ``write_batch`` (plus their summaries, as on arrival) is not timed.

Timed in CPU seconds of this process (``time.process_time``): steadier than wall time on a
shared machine; rates are per CPU-second.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests" / "monitor"))

from sqlalchemy import text  # noqa: E402
from synthetic_runs import SPEC, generate_run  # noqa: E402

from agentdeck.core.behaviour.records import RunSummaryRow  # noqa: E402
from agentdeck.core.behaviour.run_view import RunView  # noqa: E402
from agentdeck.core.trace.model import Run, Span  # noqa: E402
from agentdeck.monitor.checks import RunChecker, on_runs_stored  # noqa: E402
from agentdeck.monitor.profiles import RunSelection, create_baseline  # noqa: E402
from agentdeck.monitor.summary import summary_text  # noqa: E402
from agentdeck.monitor.window import check_window  # noqa: E402
from agentdeck.registry.service import Registry  # noqa: E402
from agentdeck.store import SqlStore  # noqa: E402
from agentdeck.store.engine import create_store_engine  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from _ratios import Ratio, emit  # noqa: E402

N = int(os.environ.get("BENCH_RUNS", "100000"))
N_BASE = 2000
N_CHECK = 2000
CHUNK = 5000
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
NOW_NS = int(NOW.timestamp()) * 10**9
HOUR_NS = 3600 * 10**9


def _shifted(r: random.Random, start_ns: int, digest: str) -> tuple[Run, list[Span]]:
    run, spans = generate_run(r)
    shift = start_ns - run.start_ns
    assert run.end_ns is not None
    run = replace(run, start_ns=start_ns, end_ns=run.end_ns + shift, agent_digest=digest)
    return run, [replace(s, start_ns=s.start_ns + shift, end_ns=s.end_ns + shift) for s in spans]


def _load(store: SqlStore, n: int, start_ns: int, span_ns: int, seed: int, digest: str) -> None:
    r = random.Random(seed)
    step = span_ns // n
    for lo in range(0, n, CHUNK):
        runs, spans, rows = [], [], []
        for i in range(lo, min(n, lo + CHUNK)):
            run, sp = _shifted(r, start_ns + i * step, digest)
            runs.append(run)
            spans.extend(sp)
            view = RunView.from_run(run, sp)
            rows.append(
                RunSummaryRow(
                    run.trace_id, run.agent_name, digest, run.env, run.start_ns, summary_text(view)
                )
            )
        store.write_batch(runs, spans)
        store.put_run_summaries(rows)  # what MonitoringSink stores on arrival
        print(f"  generated {min(n, lo + CHUNK)}/{n}", end="\r", flush=True)
    print()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(create_store_engine(f"sqlite:///{tmp}/bench.db"))
        av, _ = Registry(store).register_agent(SPEC)
        print(f"generating {N_BASE} baseline runs and {N} window runs (not timed)")
        _load(store, N_BASE, NOW_NS - 48 * HOUR_NS, HOUR_NS, 1, av.digest)
        _load(store, N, NOW_NS - HOUR_NS, HOUR_NS, 2, av.digest)
        base_sel = RunSelection("support-bot", None, "production", NOW - timedelta(hours=48),
                                NOW - timedelta(hours=47))  # fmt: skip
        create_baseline(store, "base", base_sel, "bench")

        # 1. per-run checks
        r = random.Random(3)
        fresh = [_shifted(r, NOW_NS - 30 * HOUR_NS + i * 10**6, av.digest) for i in range(N_CHECK)]
        store.write_batch([a for a, _ in fresh], [s for _, sp in fresh for s in sp])
        checker = RunChecker(store)
        t0 = time.process_time()
        on_runs_stored(store, [a.trace_id for a, _ in fresh], checker)
        t_stored = time.process_time() - t0
        t0 = time.process_time()
        checker.check_and_store(fresh)
        t_mem = time.process_time() - t0

        # 2. window check vs a plain scan of the same spans (scipy imported before timing:
        # its ~0.7 s import is paid once per process, reported separately)
        t0 = time.process_time()
        import scipy.stats  # noqa: F401

        t_scipy = time.process_time() - t0
        t0 = time.process_time()
        wc = check_window(store, "support-bot", "production", timedelta(hours=1), now=NOW)
        t_window = time.process_time() - t0
        assert wc.report.window_runs == N, wc.report.window_runs
        t0 = time.process_time()
        with store.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT s.* FROM spans s JOIN runs r ON s.trace_id = r.trace_id "
                    "WHERE r.agent_name = :a AND r.env = :e AND r.start_ns >= :lo AND r.start_ns < :hi"
                ),
                {"a": "support-bot", "e": "production", "lo": NOW_NS - HOUR_NS, "hi": NOW_NS},
            ).fetchall()
        t_scan = time.process_time() - t0
        n_spans = len(rows)
        del rows
        sample = [_shifted(random.Random(4), 0, av.digest) for _ in range(2000)]
        t0 = time.process_time()
        for run, sp in sample:
            RunView.from_run(run, sp)
        t_views = (time.process_time() - t0) / len(sample) * N
        store.close()

    print(
        f"per-run checks, on_runs_stored (read + check + store): {N_CHECK / t_stored:,.0f} runs/s"
    )
    print(f"per-run checks, check_and_store (runs in memory):        {N_CHECK / t_mem:,.0f} runs/s")
    print(f"window check over {N:,} runs ({n_spans:,} spans):          {t_window:.2f} s "
          f"({t_window / N * 1e6:.1f} us/run; {len(wc.report.drifted)} drifted)")  # fmt: skip
    print(f"(first check in a process also imports scipy:           +{t_scipy:.2f} s)")
    print(f"plain SQL scan of the same spans:                        {t_scan:.2f} s")
    print(f"ratio window check / plain scan:                         {t_window / t_scan:.2f}x")
    print(f"views from spans alone (RunView.from_run, scaled):        {t_views:.2f} s "
          f"(window check is {t_views / t_window:.1f}x faster)")  # fmt: skip
    emit("monitor", Ratio("window check/plain SQL scan (CPU)", t_window / t_scan),
         Ratio("views from spans/window check (CPU)", t_views / t_window))  # fmt: skip
    print(f"goal: window check over 100k runs under 5 s: {'met' if t_window < 5 else 'NOT met'}"
          + ("" if N == 100_000 else f" (ran {N:,} runs)"))  # fmt: skip


if __name__ == "__main__":
    main()
