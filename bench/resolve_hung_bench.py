"""How long a hung server (accepts connections, never answers) blocks the agent's thread.

Run:  PYTHONPATH=src .venv/bin/python bench/resolve_hung_bench.py [--runs 20]

The SDK in endpoint mode against a socket on 127.0.0.1 that accepts and never answers; each
run is ``with agentdeck.run(agent="bot@production"): tool()``, timed on the agent's thread
(wall clock). Figures: the first run, then the median and max of the next ``--runs`` runs;
the same with an on-disk cache seeded as an earlier process would have left it (skipped when
the code has no cache); and the same runs against an in-memory sink as the baseline. Whether
the tool ran or was denied is reported too (fail-closed: denied without a known policy).
Nothing is asserted about absolute times.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import agentdeck
from agentdeck.core.spec.agent import AgentSpec, ModelSpec

SPEC = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="hi")


@agentdeck.tool
def tool(x: int) -> int:
    return x


def hung_url() -> tuple[str, Callable[[], None]]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    sock.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()

    def close() -> None:
        stop.set()
        for c in held:
            c.close()
        sock.close()

    return f"http://127.0.0.1:{sock.getsockname()[1]}", close


def timed_runs(n: int) -> tuple[list[float], int]:
    times: list[float] = []
    denied = 0
    for i in range(n + 1):
        t0 = time.perf_counter()
        try:
            with agentdeck.run(agent="bot@production", input="q"):
                tool(x=i)
        except agentdeck.PolicyDenied:
            denied += 1
        times.append(time.perf_counter() - t0)
    return times, denied


def report(label: str, times: list[float], denied: int) -> None:
    rest = times[1:]
    print(f"{label:<34} first {times[0] * 1e3:8.1f} ms   next {len(rest)}: median "
          f"{statistics.median(rest) * 1e3:7.2f} ms, max {max(rest) * 1e3:8.1f} ms   "
          f"denied {denied}/{len(times)}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="agentdeck-hung-"))
    os.environ["AGENTDECK_CACHE_DIR"] = str(tmp / "cache")
    os.environ.pop("AGENTDECK_ENDPOINT", None)

    agentdeck.init(sink=agentdeck.InMemorySink(), spill_dir=tmp / "spill0", enforce_policies=False)
    report("baseline (in-memory, no policy)", *timed_runs(args.runs))
    agentdeck.shutdown(timeout=1)

    url, close = hung_url()
    agentdeck.init(endpoint=url, api_key="k", spill_dir=tmp / "spill1")
    report("hung server, nothing cached", *timed_runs(args.runs))
    agentdeck.shutdown(timeout=0.1)
    close()

    try:
        from agentdeck.registry.spec_cache import default_cache
    except ImportError:
        print("hung server, spec cached on disk     (no on-disk cache in this code)")
        return
    url, close = hung_url()
    meta = {"name": "bot", "version": 1, "env": "production", "deployment_id": None}
    default_cache(None, url).put("spec", "bot@production", SPEC.digest, SPEC.to_dict(), meta)
    agentdeck.init(endpoint=url, api_key="k", spill_dir=tmp / "spill2")
    report("hung server, spec cached on disk", *timed_runs(args.runs))
    agentdeck.shutdown(timeout=0.1)
    close()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
