"""Ingest sampling: what it saves, and what the pass that applies it costs.

Run:  .venv/bin/python bench/sampling_bench.py [--runs 400] [--repeat 5] [--fraction 0.1]

Each repetition writes the same ``--runs`` runs (6 spans each: the agent span, two model calls
with their context windows, three tool calls; 10% of the runs fail) into a fresh SQLite store
with ``write_batch`` (the baseline), then applies ingest sampling to them as the server's
after-ingest worker does (:func:`agentdeck.tracing.sampling.keep.apply_sampling`), then
``VACUUM``-s the file. Figures are ratios measured in the same repetition, CPU seconds:

- ``pass_cpu / write_cpu``: the sampling pass (read each run, drop the payloads of the
  sampled-out ones) against writing the runs;
- ``bytes kept``: the database file after sampling at ``--fraction`` against the same runs kept
  whole (fraction 1, measured in the same repetition);
- ``spans kept``: span rows left against span rows written.

Nothing is asserted; min / median / max over the repetitions are printed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, cpu, emit  # noqa: E402


def runs(n: int) -> tuple[list[Any], list[Any]]:
    import uuid

    from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus

    out_runs, out_spans = [], []
    for i in range(n):
        tid = uuid.uuid4().hex
        failed = i % 10 == 0
        status = SpanStatus.ERROR if failed else SpanStatus.OK
        t0 = 1_700_000_000_000_000_000 + i * 1_000_000_000
        window = [{"role": "system", "content": "You are the support bot. " * 40},
                  {"role": "user", "content": f"Refund order A-{i} please, it arrived broken."}]  # fmt: skip
        spans = [Span(tid, "0000000000000001", None, "support-bot", SpanKind.AGENT, t0, t0 + 9,
                      0, status, "refund failed" if failed else None,
                      inputs={"input": window[1]["content"]})]  # fmt: skip
        for k in range(2):
            spans.append(Span(tid, f"{k + 2:016x}", spans[0].span_id, "chat gpt-4o", SpanKind.LLM,
                              t0 + k, t0 + k + 1, k + 1, SpanStatus.OK,
                              inputs={"messages": window}, outputs={"content": "ok " * 50}))  # fmt: skip
        for k in range(3):
            spans.append(Span(tid, f"{k + 4:016x}", spans[0].span_id, "lookup_order", SpanKind.TOOL,
                              t0 + 3 + k, t0 + 4 + k, k + 3, SpanStatus.OK,
                              inputs={"args": {"order_id": f"A-{i}"}},
                              outputs={"result": {"order_id": f"A-{i}", "items": ["mug"] * 20}},
                              attributes={"tool.name": "lookup_order"}))  # fmt: skip
        out_runs.append(Run(tid, "support-bot", 1, "sha256:" + "0" * 64, "production", None, t0,
                            t0 + 9, status, "refund failed" if failed else None,
                            input=window[1]["content"], output="done", root_span_id="0000000000000001"))  # fmt: skip
        out_spans += spans
    return out_runs, out_spans


def once(tmp: Path, rs: list[Any], ss: list[Any], fraction: float) -> dict[str, float]:
    import sqlite3

    from agentdeck.store import open_store
    from agentdeck.tracing.sampling.keep import apply_sampling

    path = tmp / f"s{fraction}.db"
    store = open_store(f"sqlite:///{path}")
    t0 = cpu()
    store.write_batch(rs, ss)
    t1 = cpu()
    apply_sampling(store, [r.trace_id for r in rs], fraction)
    t2 = cpu()
    with store.engine.connect() as conn:
        from sqlalchemy import text

        spans_left = conn.execute(text("SELECT count(*) FROM spans")).scalar_one()
    store.close()
    db = sqlite3.connect(path)
    db.execute("VACUUM")
    db.close()
    return {"write": t1 - t0, "pass": t2 - t1, "bytes": path.stat().st_size,
            "spans": spans_left, "written": len(ss)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--fraction", type=float, default=0.1)
    args = ap.parse_args()
    rs, ss = runs(args.runs)
    cost, saved, kept = [], [], []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as d:
            whole = once(Path(d), rs, ss, 1.0)
            part = once(Path(d), rs, ss, args.fraction)
        cost.append(part["pass"] / part["write"])
        saved.append(part["bytes"] / whole["bytes"])
        kept.append(part["spans"] / part["written"])
        print(f"rep {i + 1}: pass/write CPU {cost[-1]:.3f}, bytes kept {saved[-1]:.3f}, "
              f"spans kept {kept[-1]:.3f}")  # fmt: skip

    def mmm(xs: list[float]) -> str:
        return f"min {min(xs):.3f} / median {statistics.median(xs):.3f} / max {max(xs):.3f}"

    print(f"{args.runs} runs x {len(ss) // args.runs} spans, 10% failed, fraction {args.fraction}")
    print(f"sampling pass CPU / write CPU: {mmm(cost)}")
    print(f"database bytes kept (vs fraction 1): {mmm(saved)}")
    print(f"span rows kept: {mmm(kept)}")
    emit(
        "sampling",
        Ratio("sampling_pass_cpu_over_write", statistics.median(cost), "<= 1.0"),
        Ratio("bytes_kept_at_fraction", statistics.median(saved)),
    )


if __name__ == "__main__":
    main()
