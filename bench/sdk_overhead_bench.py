"""Per-call overhead of ``@agentdeck.tool`` against the bare call and the OpenTelemetry SDK.

Run: ``.venv/bin/python bench/sdk_overhead_bench.py [--calls N] [--repeats R] [--payload P]``

Four loops over the same tool, in one process, interleaved repeat by repeat (so a noisy
neighbour slows all of them alike):

- bare: the undecorated function;
- passthrough: ``@agentdeck.tool`` before ``init`` (not part of the ratio);
- agentdeck: ``@agentdeck.tool`` inside a run: args and result captured on the caller's thread
  at call time, args validated against the agent's pinned input schema (fastjsonschema), spans
  built and delivered by the background thread to a sink that counts and discards them (the
  counterpart of OTel's no-op exporter: neither side keeps spans alive). The span limits and
  the redactor (default patterns) run on every span, as in production;
- OpenTelemetry SDK: one span per call carrying the same data as attributes, copied at call
  time as the OTel SDK does (tool name, each argument, the result; a nested value as its JSON
  text, encoded with orjson at call time), through a ``BatchSpanProcessor`` with a no-op
  exporter.

Sinks (``--sink``): ``raw`` (default) takes captured values as the JSON bytes made at call time,
as OTel's exporter takes the JSON text of its attributes and as the HTTP sink writes them;
``parsed`` wants JSON data (like the embedded store), so the exporter parses them back.

Payloads (``--payload``): ``flat`` is ``noop(city="Paris", days=3) -> {"ok": True}``;
``nested`` is ``order(user, prefs={...nested...}, items=[...4 dicts...]) -> {nested}``, the
case where capturing at call time means serializing.

What the clock covers: each repeat is ``N`` calls *and* the flush that makes the background
thread finish their spans (``sdk.flush`` / ``force_flush``), timed with the process's CPU time
(all threads: the exporter's work is inside the figure) and with the wall clock. Printed per
call: min / median / max over ``R`` repeats, the overheads over the bare call, and the ratio
agentdeck / OpenTelemetry of the median overheads (the goal is <= 0.5). Also printed: the
exporter's counters (drops would flatter the figure).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk import api as sdk

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city", "days"],
    "additionalProperties": False,
}
ORDER_SCHEMA = {
    "type": "object",
    "properties": {"user": {"type": "string"}, "prefs": {"type": "object"},
                   "items": {"type": "array"}},
    "required": ["user", "prefs", "items"],
}  # fmt: skip
SPEC = AgentSpec(
    name="bench-bot",
    model=ModelSpec("openai", "gpt-4o-2024-08-06"),
    tools=(ToolSpec("noop", input_schema=SCHEMA), ToolSpec("order", input_schema=ORDER_SCHEMA)),
)
QUEUE = 1 << 16
BATCH = 512

PREFS = {"lang": "en", "currency": "EUR", "notify": {"email": True, "sms": False}}
ITEMS = [{"sku": f"SKU-{i}", "qty": i + 1, "price": 9.5 * (i + 1)} for i in range(4)]


def noop(city: str, days: int) -> dict[str, bool]:
    return {"ok": True}


def order(user: str, prefs: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"order_id": "ord-1", "total": 95.0, "lines": len(items), "ship": {"days": 2}}


class _NoopExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _CountingSink:
    """Counts the spans the exporter delivers, keeps none (like OTel's no-op exporter).

    ``raw_json``: like OTel's exporter, which receives the nested values as the JSON text made
    at call time, it takes captured values as JSON bytes (as the HTTP sink does). With
    ``--sink parsed`` it asks for JSON data instead (what the embedded store and custom sinks
    get), and the exporter parses every captured value back for it.
    """

    raw_json = True

    def __init__(self) -> None:
        self.spans = 0

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.spans += len(spans)


class _ParsedCountingSink(_CountingSink):
    raw_json = False


class Loop:
    """One contender: a call, the flush that ends its repeat, and its per-call figures."""

    def __init__(self, name: str, call: Callable[[], Any], flush: Callable[[], object]) -> None:
        self.name, self.call, self.flush = name, call, flush
        self.cpu: list[float] = []
        self.wall: list[float] = []

    def repeat(self, n: int) -> None:
        call = self.call
        gc.collect()
        c0, w0 = time.process_time(), time.perf_counter()
        for _i in range(n):
            call()
        self.flush()
        c1, w1 = time.process_time(), time.perf_counter()
        self.cpu.append((c1 - c0) / n)
        self.wall.append((w1 - w0) / n)


def _otel_flat(tracer: Any) -> Callable[[], Any]:
    def call() -> Any:
        city, days = "Paris", 3
        with tracer.start_as_current_span(
            "noop", attributes={"tool.name": "noop", "tool.args.city": city, "tool.args.days": days}
        ) as span:
            result = noop(city, days)
            span.set_attribute("tool.result.ok", result["ok"])
            return result

    return call


def _otel_nested(tracer: Any) -> Callable[[], Any]:
    def call() -> Any:
        user, prefs, items = "ann", PREFS, ITEMS
        attrs = {"tool.name": "order", "tool.args.user": user,
                 "tool.args.prefs": orjson.dumps(prefs).decode(),
                 "tool.args.items": orjson.dumps(items).decode()}  # fmt: skip
        with tracer.start_as_current_span("order", attributes=attrs) as span:
            result = order(user, prefs, items)
            span.set_attribute("tool.result", orjson.dumps(result).decode())
            return result

    return call


def _stats(xs: list[float]) -> tuple[float, float, float]:
    return min(xs), statistics.median(xs), max(xs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--payload", choices=("flat", "nested"), default="flat")
    ap.add_argument("--sink", choices=("raw", "parsed"), default="raw",
                    help="raw: the sink takes captured JSON bytes (HTTP wire); parsed: JSON data")  # fmt: skip
    a = ap.parse_args(argv)
    n, r = a.calls, a.repeats

    if a.payload == "flat":
        fn: Callable[..., Any] = noop
        args: tuple[Any, ...] = ("Paris", 3)
        otel_factory = _otel_flat
    else:
        fn, args, otel_factory = order, ("ann", PREFS, ITEMS), _otel_nested
    wrapped = sdk.tool(fn)

    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(_NoopExporter(), max_queue_size=QUEUE, max_export_batch_size=BATCH)
    )
    tracer = provider.get_tracer("bench")

    def none() -> None:
        return None

    bare = Loop("bare call", lambda: fn(*args), none)
    passthrough = Loop("@tool before init (passthrough)", lambda: wrapped(*args), none)
    for _ in range(r):
        passthrough.repeat(n)

    sink = _CountingSink() if a.sink == "raw" else _ParsedCountingSink()
    with tempfile.TemporaryDirectory() as spill:
        sdk.init(sink=sink, spill_dir=spill, queue_size=QUEUE, batch_size=BATCH)
        otel = Loop("OpenTelemetry SDK span (BSP)", otel_factory(tracer),
                    lambda: provider.force_flush())  # fmt: skip
        ours = Loop("agentdeck @tool (recorded)", lambda: wrapped(*args), lambda: sdk.flush(60))
        with sdk.run(agent=SPEC, input="bench"):
            for _ in range(r):
                bare.repeat(n)
                otel.repeat(n)
                ours.repeat(n)
        stats = sdk.stats()
        sdk.shutdown()
    provider.shutdown()

    us = 1e6
    print(
        f"payload: {a.payload}, sink: {a.sink}, calls per repeat: {n}, repeats: {r}, "
        f"python {sys.version.split()[0]}; per call, flush included, min / median / max"
    )
    for clock in ("cpu", "wall"):
        print(f"-- {clock} time (us per call)")
        base = statistics.median(getattr(bare, clock))
        for loop in (bare, passthrough, otel, ours):
            lo, med, hi = _stats(getattr(loop, clock))
            print(f"{loop.name:34} {lo * us:8.3f} {med * us:8.3f} {hi * us:8.3f}"
                  f"   overhead (median) {(med - base) * us:8.3f}")  # fmt: skip
        ad = statistics.median(getattr(ours, clock)) - base
        ot = statistics.median(getattr(otel, clock)) - base
        print(f"ratio agentdeck/OTel overhead ({clock}, medians)  {ad / ot:6.3f}   (goal <= 0.5)")
    if stats is not None:
        print(
            f"exporter: submitted={stats.submitted} exported_spans={stats.exported_spans} "
            f"dropped={stats.dropped} lost={stats.lost}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
