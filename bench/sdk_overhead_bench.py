"""Per-call overhead of ``@agentdeck.tool`` against the bare call and the OpenTelemetry SDK.

Run: ``.venv/bin/python bench/sdk_overhead_bench.py [--calls N] [--repeats R]``

Three loops over the same no-op tool ``noop(city, days) -> {"ok": True}``, in one process:

- bare: the undecorated function;
- agentdeck: ``@agentdeck.tool`` inside a run, args and result recorded, args validated against
  the agent's pinned input schema (fastjsonschema), spans built and delivered by the background
  thread to a sink that counts and discards them (the counterpart of OTel's no-op exporter:
  neither side keeps spans alive, so garbage collection is not charged for a growing heap);
- OpenTelemetry SDK: one span per call with the same data as attributes (tool name, both args,
  the result) through a ``BatchSpanProcessor`` with a no-op exporter.

Each figure is the best of ``R`` repeats of ``N`` calls (per call), and includes the background
threads' share of the GIL. Printed as overheads over the bare call and the ratio
agentdeck / OpenTelemetry (the goal is <= 0.5). Also printed: the pass-through cost of the
decorator before ``init`` and the exporter's counters (drops would flatter the figure).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from agentdeck.core.spec import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace import Run, Span
from agentdeck.tracing import sdk

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
SPEC = AgentSpec(
    name="bench-bot",
    model=ModelSpec("openai", "gpt-4o-2024-08-06"),
    tools=(ToolSpec("noop", input_schema=SCHEMA),),
)
QUEUE = 1 << 16
BATCH = 512


def noop(city: str, days: int) -> dict[str, bool]:
    return {"ok": True}


class _NoopExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _CountingSink:
    """Counts the spans the exporter delivers, keeps none (like OTel's no-op exporter)."""

    def __init__(self) -> None:
        self.spans = 0

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.spans += len(spans)


def _loop(fn: Callable[..., Any], n: int) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _i in range(n):
        fn("Paris", 3)
    return (time.perf_counter() - t0) / n


def _best(fn: Callable[..., Any], n: int, repeats: int, between: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        best = min(best, _loop(fn, n))
        between()
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args(argv)
    n, r = a.calls, a.repeats

    wrapped = sdk.tool(noop)
    bare = _best(noop, n, r, lambda: None)
    passthrough = _best(wrapped, n, r, lambda: None)

    # OpenTelemetry SDK: the same data as span attributes, batched to a no-op exporter.
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(_NoopExporter(), max_queue_size=QUEUE, max_export_batch_size=BATCH)
    )
    tracer = provider.get_tracer("bench")

    def otel_noop(city: str, days: int) -> dict[str, bool]:
        with tracer.start_as_current_span(
            "noop", attributes={"tool.name": "noop", "tool.args.city": city, "tool.args.days": days}
        ) as span:
            result = noop(city, days)
            span.set_attribute("tool.result.ok", result["ok"])
            return result

    otel = _best(otel_noop, n, r, lambda: provider.force_flush())
    provider.shutdown()

    # agentdeck: the same loop inside a run, spans built by the worker thread, then discarded.
    sink = _CountingSink()
    with tempfile.TemporaryDirectory() as spill:
        sdk.init(sink=sink, spill_dir=spill, queue_size=QUEUE, batch_size=BATCH)

        def between() -> None:
            sdk.flush(30)

        with sdk.run(agent=SPEC, input="bench"):
            ours = _best(wrapped, n, r, between)
        stats = sdk.stats()
        sdk.shutdown()

    us = 1e6
    ad_over, otel_over = ours - bare, otel - bare
    print(
        f"calls per repeat: {n}, repeats: {r} (best repeat shown), python {sys.version.split()[0]}"
    )
    print(f"bare call                      {bare * us:8.3f} us")
    print(
        f"@tool before init (passthrough) {passthrough * us:7.3f} us  (+{(passthrough - bare) * us:.3f})"
    )
    print(f"agentdeck @tool (recorded)     {ours * us:8.3f} us  overhead {ad_over * us:7.3f} us")
    print(f"OpenTelemetry SDK span (BSP)   {otel * us:8.3f} us  overhead {otel_over * us:7.3f} us")
    print(f"ratio agentdeck/OTel overhead  {ad_over / otel_over:8.3f}   (goal <= 0.5)")
    print(f"ratio agentdeck/bare call      {ours / bare:8.1f}x")
    if stats is not None:
        print(
            f"exporter: submitted={stats.submitted} exported_spans={stats.exported_spans} "
            f"dropped={stats.dropped} lost={stats.lost}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
