"""OTLP out beside the agentdeck destination: what it costs the agent's thread.

Records ``--calls`` tool calls in one run with ``agentdeck.init(sink=InMemorySink())`` (one
destination), then with ``otlp_endpoint=`` a local OTLP/HTTP receiver on 127.0.0.1 as well
(fan-out: one drain thread builds each batch once, each destination has its own send thread
and spill), alternating ``--rounds`` times. Reports the agent thread's CPU per call (median)
for both, and the ratio fan-out / single (goal: <= 1.5, the collector's work is on the
exporter's threads).

    PYTHONPATH=src python bench/otlp_fanout_bench.py [--calls 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ratios import Ratio, emit

import agentdeck
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.sink import InMemorySink


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@sdk.tool
def lookup(order_id: str) -> dict[str, str]:
    return {"order_id": order_id}


def _round(calls: int, otlp: str | None, spill: str) -> float:
    extra = {"otlp_endpoint": otlp} if otlp else {}
    agentdeck.init(sink=InMemorySink(), enforce_policies=False, spill_dir=spill,
                   queue_size=calls * 2, **extra)  # fmt: skip
    start = time.thread_time()
    with sdk.run(None, input="x", session_id="s", name="bench"):
        for i in range(calls):
            lookup(str(i))
    per_call = (time.thread_time() - start) / calls * 1e6
    result = agentdeck.flush(60)
    sdk.shutdown(10)
    assert result, result
    return per_call


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    single: list[float] = []
    fanout: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.rounds):
            single.append(_round(args.calls, None, f"{tmp}/s{i}"))
            fanout.append(_round(args.calls, url, f"{tmp}/f{i}"))
    server.shutdown()
    s, f = statistics.median(single), statistics.median(fanout)
    print(f"one destination:           {s:6.1f} us agent-thread CPU per tool call (median)")
    print(f"beside an OTLP collector:  {f:6.1f} us agent-thread CPU per tool call (median)")
    emit("otlp_fanout", Ratio("fanout_over_single_cpu_per_call", f / s, "<= 1.5"))


if __name__ == "__main__":
    main()
