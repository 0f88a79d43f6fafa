"""OTLP ingest throughput of ``agentdeck serve`` (SQLite), against Arize Phoenix's own OTLP
receiver on the same payloads, in the same run.

Several client processes POST real OTLP/HTTP protobuf batches (made by the official
``opentelemetry-exporter-otlp-proto-common`` encoder from OpenTelemetry SDK spans carrying GenAI
attributes). Every request carries new trace and span ids: each client builds its
``BENCH_PAYLOADS`` distinct payloads before the clock starts and sends each exactly once (an
earlier version cycled 150 payloads for a fixed time, so re-sends became cheap ignored inserts
counted as new spans). The report is spans per second accepted (HTTP 200) from the first request
to the last answer, and the p50/p99 request latency; for agentdeck the spans stored are counted
afterwards and must equal the spans accepted. agentdeck answers only after the spans are
committed; Phoenix answers once it has queued them (its insertion is asynchronous), so its
figure is an upper bound on what it stores. The server runs in another process, so the clock is
wall time.

Phoenix is a bench extra, never a test dependency: it is looked for in a throwaway venv
(``PHOENIX_VENV``, default ``/tmp/phoenix-venv``; create it with
``python3 -m venv /tmp/phoenix-venv && /tmp/phoenix-venv/bin/pip install arize-phoenix``).
Without it only agentdeck's figures are printed.

    .venv/bin/python bench/server_bench.py        # BENCH_CLIENTS=3 BENCH_PAYLOADS=200 BENCH_SPANS=200
"""

from __future__ import annotations

import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, emit  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", "3"))
SPANS_PER_REQUEST = int(os.environ.get("BENCH_SPANS", "200"))
PAYLOADS_PER_CLIENT = int(os.environ.get("BENCH_PAYLOADS", "200"))
PHOENIX_VENV = Path(os.environ.get("PHOENIX_VENV", "/tmp/phoenix-venv"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_payloads(n: int, spans_per_request: int) -> list[bytes]:
    """``n`` OTLP protobuf request bodies of GenAI agent runs (agent -> llm -> tools)."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench-bot"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    out = []
    per_run = 5
    for _ in range(n):
        exporter.clear()
        for i in range(spans_per_request // per_run):
            with tracer.start_as_current_span(
                "invoke_agent support-bot",
                attributes={
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": "support-bot",
                },
            ):
                with tracer.start_as_current_span(
                    "chat gpt-4o",
                    attributes={
                        "gen_ai.operation.name": "chat",
                        "gen_ai.request.model": "gpt-4o",
                        "gen_ai.usage.input_tokens": 120,
                        "gen_ai.usage.output_tokens": 30,
                        "gen_ai.input.messages": '[{"role":"user","parts":[{"type":"text","content":"where is order '
                        + str(i)
                        + '"}]}]',
                    },
                ):
                    pass
                for tool in ("lookup_order", "get_weather", "issue_refund"):
                    with tracer.start_as_current_span(
                        f"execute_tool {tool}",
                        attributes={
                            "gen_ai.operation.name": "execute_tool",
                            "gen_ai.tool.name": tool,
                            "gen_ai.tool.call.arguments": f'{{"order_id": "A-{i}"}}',
                            "gen_ai.tool.call.result": '{"status": "shipped"}',
                        },
                    ):
                        pass
        out.append(encode_spans(list(exporter.get_finished_spans())).SerializeToString())
    provider.shutdown()
    return out


def client(args: tuple[str, dict[str, str], Any]) -> tuple[int, list[float]]:
    url, headers, barrier = args
    payloads = make_payloads(PAYLOADS_PER_CLIENT, SPANS_PER_REQUEST)  # new ids in every one
    accepted = 0
    latencies: list[float] = []
    with httpx.Client(
        timeout=30, headers={**headers, "Content-Type": "application/x-protobuf"}
    ) as http:
        barrier.wait()
        for body in payloads:  # each sent once: no re-send is counted as new spans
            t0 = time.perf_counter()
            r = http.post(url, content=body)
            latencies.append(time.perf_counter() - t0)
            if r.status_code == 200:
                accepted += SPANS_PER_REQUEST
    return accepted, latencies


def drive(name: str, url: str, headers: dict[str, str]) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Manager().Barrier(CLIENTS + 1)
    with ctx.Pool(CLIENTS) as pool:
        pending = pool.map_async(client, [(url, headers, barrier)] * CLIENTS)
        barrier.wait()
        t0 = time.perf_counter()
        results = pending.get()
        wall = time.perf_counter() - t0
    spans = sum(a for a, _ in results)
    lat = sorted(x for _, ls in results for x in ls)
    out = {
        "spans": float(spans),
        "spans_per_s": spans / wall,
        "p50_ms": 1000 * statistics.median(lat),
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
        "requests": float(len(lat)),
    }
    print(
        f"{name:>10}: {out['spans_per_s']:>9,.0f} spans/s accepted   p50 {out['p50_ms']:7.1f} ms   "
        f"p99 {out['p99_ms']:7.1f} ms   ({len(lat)} requests of {SPANS_PER_REQUEST} spans, {CLIENTS} clients)",
        flush=True,
    )
    return out


def wait_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def bench_agentdeck(tmp: Path, *, checks: bool = True) -> dict[str, float]:
    """agentdeck serve on SQLite; ``checks`` keeps per-run checks on ingest on (the default)."""
    from agentdeck.registry.keys import create_key
    from agentdeck.store import open_store

    db = f"sqlite:///{tmp / ('bench.db' if checks else 'bench-nochecks.db')}"
    store = open_store(db)
    key = create_key(store, "bench", ["ingest"], "bench").token
    store.close()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agentdeck.cli.main",
            "serve",
            "--port",
            str(port),
            "--db",
            db,
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "agentdeck.log", "ab"),  # noqa: SIM115
        env={**os.environ, "AGENTDECK_CHECK_ON_INGEST": "1" if checks else "0"},
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", proc)
        out = drive(
            "agentdeck" if checks else "(no checks)",
            f"http://127.0.0.1:{port}/v1/traces",
            {"Authorization": f"Bearer {key}"},
        )
    finally:
        proc.terminate()
        proc.wait(20)
    stored = _count_spans(db)
    assert stored == out["spans"], f"{stored} spans stored, {out['spans']:.0f} counted as accepted"
    return out


def _count_spans(db: str) -> int:
    """Spans in the bench's SQLite file, read directly (the server has stopped)."""
    import sqlite3

    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    try:
        return int(conn.execute("SELECT count(*) FROM spans").fetchone()[0])
    finally:
        conn.close()


def bench_phoenix(tmp: Path) -> dict[str, float] | None:
    exe = PHOENIX_VENV / "bin" / "phoenix"
    if not exe.exists():
        print(f"   phoenix: not installed at {PHOENIX_VENV} (bench extra); skipped")
        return None
    port, grpc = free_port(), free_port()
    env = {
        **os.environ,
        "PHOENIX_PORT": str(port),
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_GRPC_PORT": str(grpc),
        "PHOENIX_WORKING_DIR": str(tmp / "phoenix"),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    proc = subprocess.Popen(
        [str(exe), "serve"],
        env=env,
        stdout=open(tmp / "phoenix.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/healthz", proc)
        return drive("phoenix", f"http://127.0.0.1:{port}/v1/traces", {})
    except RuntimeError as exc:
        print(f"   phoenix: did not run ({exc}); see {tmp / 'phoenix.log'}")
        return None
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="agentdeck-server-bench-") as d:
        tmp = Path(d)
        ours = bench_agentdeck(tmp)
        bare = bench_agentdeck(tmp, checks=False)
        theirs = bench_phoenix(tmp)
        with_checks = ours["spans_per_s"] / bare["spans_per_s"]
        ratios = [Ratio("agentdeck with/without per-run checks (spans/s)", with_checks)]
        if theirs:
            versus = ours["spans_per_s"] / theirs["spans_per_s"]
            ratios.append(Ratio("agentdeck/phoenix (spans/s)", versus))
        if theirs:
            print(
                f"     ratio without per-run checks on ingest (Phoenix runs none): "
                f"{bare['spans_per_s'] / theirs['spans_per_s']:.2f}x spans/s"
            )
            print(
                f"     ratio: agentdeck/phoenix = {ours['spans_per_s'] / theirs['spans_per_s']:.2f}x spans/s, "
                f"p99 {ours['p99_ms']:.1f} vs {theirs['p99_ms']:.1f} ms"
            )
        print(
            f"     ratio with/without per-run checks on ingest: "
            f"{ours['spans_per_s'] / bare['spans_per_s']:.2f}x spans/s"
        )
        emit("server", *ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
