"""What the SDK delivers, spills, drops and loses when the destination misbehaves.

Run: ``PYTHONPATH=src .venv/bin/python bench/loss_bench.py`` (about half a minute; ``BENCH_RUNS``
sets the bulk run count, ``BENCH_HUNG_SPANS`` the hung-server span count).

Every scenario records through the public SDK (``agentdeck.init(endpoint=...)``) into a real
``agentdeck serve`` subprocess on 127.0.0.1 (SQLite), and counts what the server stored:

- **default**: a bulk recording of ``BENCH_RUNS`` runs of 20 tool calls each, default settings.
- **block**: the same with ``on_full="block"``.
- **killed**: the server is SIGKILLed a third of the way through and restarted 1 s later.
- **hung**: ``BENCH_HUNG_SPANS`` spans against a socket that accepts and never answers; then
  ``shutdown(2)``, and a real server adopts the spill (as the next process would).
- **hung+blk**: the same with ``on_full="block"``.

Columns: items are runs + spans. ``delivered`` = rows the server stored; ``dropped``/``lost``
from ``agentdeck.stats()``; ``unaccounted`` = submitted - delivered - dropped - lost (still
spilled or in memory when the scenario ended: what a SIGKILL of the agent would lose unless it
is in the spill); ``max_call_ms`` = the slowest single tool call on the agent's thread.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent
from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from agentdeck.store.tables import runs as runs_table
from agentdeck.store.tables import spans as spans_table
from agentdeck.tracing.sdk import api as sdk

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
TOOLS = 20
HUNG_SPANS = int(os.environ.get("BENCH_HUNG_SPANS", "20000"))
_spec = AgentSpec(name="bench-bot", model=ModelSpec("openai", "gpt-4o-2024-08-06"))
AGENT = ResolvedAgent("bench-bot", 1, _spec.digest, _spec, env="bench", deployment_id=None)


@sdk.tool
def lookup(order: int) -> dict[str, Any]:
    return {"order": order, "status": "shipped", "items": [{"sku": f"SKU-{order}", "qty": 1}]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    db_url: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        cmd = [sys.executable, "-m", "agentdeck.cli.main", "serve", "--host", "127.0.0.1",
               "--port", str(self.port), "--db", self.db_url, "--log-level", "warning"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not come up: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


def stored(db_url: str) -> int:
    store = open_store(db_url)
    try:
        with store.engine.connect() as conn:
            n_spans = conn.execute(select(func.count()).select_from(spans_table)).scalar_one()
            n_runs = conn.execute(select(func.count()).select_from(runs_table)).scalar_one()
        return int(n_spans) + int(n_runs)
    finally:
        store.close()


def record(runs: int, tools: int, on_run: Any = None) -> float:
    """Record ``runs`` runs of ``tools`` calls; the slowest call in seconds."""
    worst = 0.0
    for r in range(runs):
        with sdk.run(agent=AGENT, input={"r": r}):
            for i in range(tools):
                t0 = time.perf_counter()
                lookup(r * tools + i)
                worst = max(worst, time.perf_counter() - t0)
        if on_run is not None:
            on_run(r)
    return worst


def row(name: str, submitted: int, delivered: int, worst: float, note: str = "") -> None:
    st = sdk.stats()
    dropped = st.dropped if st else 0
    lost = st.lost if st else 0
    unaccounted = submitted - delivered - dropped - lost
    print(f"{name:<8} {submitted:>9} {delivered:>9} {dropped:>8} {lost:>6} {unaccounted:>11} "
          f"{worst * 1000:>11.1f}  {note}", flush=True)  # fmt: skip


def settle(db_url: str, expected: int, deadline_s: float) -> int:
    deadline = time.monotonic() + deadline_s
    n = stored(db_url)
    while n < expected and time.monotonic() < deadline:
        sdk.flush(2)
        time.sleep(0.2)
        n = stored(db_url)
    return n


def scenario(tmp: Path, name: str, **init: Any) -> None:
    db_url = f"sqlite:///{tmp / name}.db"
    store = open_store(db_url)
    key = create_key(store, "bench", ["ingest"], "bench").token
    store.close()
    server = Server(db_url, free_port(), tmp / f"{name}.log").start()
    sdk.init(endpoint=server.url, api_key=key, spill_dir=tmp / f"spill-{name}", **init)
    submitted = RUNS * (TOOLS + 2)
    note = ""
    try:
        if name == "killed":

            def on_run(r: int) -> None:
                if r == RUNS // 3:
                    server.kill()
                    threading.Timer(1.0, server.start).start()

            worst = record(RUNS, TOOLS, on_run)
            time.sleep(1.5)  # the restart is under way
        else:
            worst = record(RUNS, TOOLS)
        result = sdk.flush(30)
        note = f"flush: {'truthy' if result else 'falsy'} {result}"
        delivered = settle(db_url, submitted, 30)
        row(name, submitted, delivered, worst, note)
    finally:
        sdk.shutdown(10)
        server.stop()


def hung(tmp: Path, name: str = "hung", **init: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    spill = tmp / f"spill-{name}"
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sdk.init(endpoint=url, api_key="k", spill_dir=spill, **init)
    runs = HUNG_SPANS // (TOOLS + 1)
    submitted = runs * (TOOLS + 2)
    worst = record(runs, TOOLS)
    result = sdk.flush(2)
    st = sdk.stats()
    dropped, lost = (st.dropped, st.lost) if st else (0, 0)
    ok = sdk.shutdown(2)
    stop.set()
    for c in held:
        c.close()
    sock.close()
    # The next process (a fresh SDK) adopts the spill into a real server.
    db_url = f"sqlite:///{tmp / name}.db"
    store = open_store(db_url)
    key = create_key(store, "bench", ["ingest"], "bench").token
    store.close()
    server = Server(db_url, free_port(), tmp / f"{name}.log").start()
    try:
        sdk.init(endpoint=server.url, api_key=key, spill_dir=spill)
        delivered = settle(db_url, submitted, 60)
        unaccounted = submitted - delivered - dropped - lost
        print(f"{name:<8} {submitted:>9} {delivered:>9} {dropped:>8} {lost:>6} {unaccounted:>11} "
              f"{worst * 1000:>11.1f}  flush(2): {result}; shutdown(2) in time: {ok}; "
              "delivered = re-sent from the spill by the next process")  # fmt: skip
    finally:
        sdk.shutdown(10)
        server.stop()


def main() -> None:
    print(f"runs={RUNS} tools/run={TOOLS} hung_spans={HUNG_SPANS}; items = runs + spans")
    print(f"{'scenario':<8} {'submitted':>9} {'delivered':>9} {'dropped':>8} {'lost':>6} "
          f"{'unaccounted':>11} {'max_call_ms':>11}")  # fmt: skip
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        scenario(tmp, "default")
        try:
            scenario(tmp, "block", on_full="block")
        except TypeError as exc:  # an SDK without the block mode (for before/after figures)
            print(f"block    not supported: {exc}")
        scenario(tmp, "killed")
        hung(tmp)
        try:
            hung(tmp, "hung+blk", on_full="block")
        except TypeError as exc:
            print(f"hung+blk not supported: {exc}")


if __name__ == "__main__":
    main()
