"""Import throughput: runs per second recorded by ``agentdeck import`` (OpenAI chat JSONL), against
re-enacting the same conversations through the SDK (``run`` / ``llm`` / ``guarded_call``), in the
same process, into a fresh SQLite store each, with the same agent (pinned schemas) and policy.

Run: ``PYTHONPATH=src .venv/bin/python bench/import_bench.py`` (``BENCH_CONVS`` conversations,
default 300, ``BENCH_REPEATS`` repeats, default 5; each conversation has 3 tool calls and 4
model calls, 9 messages).

After one uncounted warm-up round, each repeat times both paths (alternating which goes first) end to end, through ``flush()`` (everything stored): wall seconds,
and the process's CPU seconds (steadier on a shared machine). The import's figure includes
reading and checking the file (its first pass) and parsing each line again to record it.
Prints min / median / max runs/s per path and per clock, and emits the median ratio
import / SDK (goal: >= 0.8, an import is not slower than re-enacting by hand).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _ratios import Ratio, cpu, emit

import agentdeck
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore, open_store
from agentdeck.tracing.imports.runner import check_file, import_file
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.tools import guarded_call
from conversation_support import refund_conversation, register_example

N = int(os.environ.get("BENCH_CONVS", "300"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
AGENT = "support-bot@1"


def _store(tmp: Path, name: str) -> SqlStore:
    store = open_store(f"sqlite:///{tmp / name}")
    register_example(store)
    agentdeck.init(sink=store, resolver=CachingResolver(Registry(store)), on_full="block",
                   spill_dir=tmp / "spill", batch_size=1024)  # fmt: skip
    return store


def _timed(work: Callable[[], None]) -> tuple[float, float]:
    w0, c0 = time.perf_counter(), cpu()
    work()
    res = sdk.flush(timeout=None)
    assert res, res
    return time.perf_counter() - w0, cpu() - c0


def by_import(tmp: Path, path: Path) -> tuple[float, float]:
    store = _store(tmp, "import.db")

    def work() -> None:
        fmt, _ = check_file(path)
        report = import_file(path, agent=AGENT, fmt=fmt)
        assert report.runs == N and report.failed == 0, report

    try:
        return _timed(work)
    finally:
        sdk.shutdown(timeout=30)
        store.close()


def by_sdk(tmp: Path, convs: list[dict[str, Any]]) -> tuple[float, float]:
    store = _store(tmp, "sdk.db")

    def work() -> None:
        for conv in convs:
            msgs = conv["messages"]
            with agentdeck.run(agent=AGENT, input=msgs[1]["content"]) as r:
                results = {m["tool_call_id"]: m["content"] for m in msgs if m["role"] == "tool"}
                for i, m in enumerate(msgs):
                    if m["role"] != "assistant":
                        continue
                    with agentdeck.llm(messages=msgs[:i]) as call:
                        call.record(message=m)
                    for c in m.get("tool_calls") or ():
                        fn = c["function"]
                        out = results[c["id"]]
                        guarded_call(fn["name"], json.loads(fn["arguments"]), lambda out=out: out)
                r.set_output(msgs[-1]["content"])
                r.set_outcome(success=bool(conv["outcome"]))

    try:
        return _timed(work)
    finally:
        sdk.shutdown(timeout=30)
        store.close()


def _line(name: str, values: list[float]) -> None:
    print(f"{name:<34}{min(values):>10.1f}{statistics.median(values):>10.1f}{max(values):>10.1f}")


def main() -> None:
    convs = [refund_conversation(order=f"ORD-{1000 + i}", outcome=i % 2) for i in range(N)]
    rates: dict[str, list[float]] = {
        k: [] for k in ("import wall", "sdk wall", "import cpu", "sdk cpu")
    }
    for rep in range(REPEATS + 1):  # the first round warms both paths up and is not counted
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            path = tmp / "convs.jsonl"
            path.write_text("".join(json.dumps(c) + "\n" for c in convs))
            if rep % 2:  # alternate which path runs first
                iw, ic = by_import(tmp, path)
                sw, sc = by_sdk(tmp, convs)
            else:
                sw, sc = by_sdk(tmp, convs)
                iw, ic = by_import(tmp, path)
        if rep == 0:
            continue
        rates["import wall"].append(N / iw)
        rates["import cpu"].append(N / ic)
        rates["sdk wall"].append(N / sw)
        rates["sdk cpu"].append(N / sc)
    print(f"{N} conversations (9 messages, 3 tool calls each), {REPEATS} repeats, SQLite")
    print(f"{'runs/s':<34}{'min':>10}{'median':>10}{'max':>10}")
    for k, v in rates.items():
        _line(k + " (runs per " + ("wall" if "wall" in k else "CPU") + "-s)", v)
    ratio_wall = statistics.median(rates["import wall"]) / statistics.median(rates["sdk wall"])
    ratio_cpu = statistics.median(rates["import cpu"]) / statistics.median(rates["sdk cpu"])
    print(f"import / sdk: wall {ratio_wall:.2f}x, CPU {ratio_cpu:.2f}x")
    emit("import", Ratio("import_vs_sdk_runs_per_cpu_s", round(ratio_cpu, 3), ">= 0.8"),
         Ratio("import_vs_sdk_runs_per_wall_s", round(ratio_wall, 3), ">= 0.8"))  # fmt: skip


if __name__ == "__main__":
    main()
