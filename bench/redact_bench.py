"""What redaction costs per span, against what building the span costs, in the exporter's thread.

Run: ``.venv/bin/python bench/redact_bench.py`` (``BENCH_ROUNDS`` sets the repetitions).

Typical spans of a support agent are recorded through the SDK (redaction off, so the stored
values are the raw ones): a tool call with its args and a JSON result, an LLM call with a
system prompt, the conversation, tool definitions and the reply, and the agent span. For each,
two figures per call, each timed alone:

- **build**: what the exporter's worker does to turn a finished span into a :class:`Span`
  (``recorder.build_span``: the dataclass and ``to_json_data`` of inputs, outputs, attributes).
- **redact**: the default redactor (``agentdeck.tracing.sdk.secret_patterns.redactor()``) on it,
  what the worker now does next, before the sink or the spill.

Printed: min / median / max microseconds of each, and redact/build of the medians; then the
same tool span with a ``password=...`` in its args (the rules whose trigger hit run and the
span is copied). Also the one-off cost of the first redaction in a process (importing
detect-secrets, compiling).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from agentdeck.core.trace.model import Span
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.recorder import build_span

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2000"))

SYSTEM = (
    "You are the support assistant of an online shop. Be brief and friendly. Use the tools to "
    "look up orders, shipping and refunds; never promise a refund above the policy limit; ask "
    "for the order id when it is missing; escalate to a human when the customer is upset. "
) * 4
TOOLS = [
    {
        "name": name,
        "description": f"{name.replace('_', ' ')} for an order",
        "input_schema": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}, "amount": {"type": "number"}},
            "required": ["order_id"],
        },
    }
    for name in ("lookup_order", "track_shipment", "issue_refund", "escalate")
]
RESULT = {
    "order_id": "ORD-12345",
    "status": "shipped",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "customer": {"id": "cus_NffrFeUfNV2Hib", "name": "Carol Diaz", "tier": "gold"},
    "items": [{"sku": "SKU-88213-BLK", "qty": 2, "price": 19.99}],
    "created_at": "2026-12-07T02:20:55Z",
    "notes": "Customer asked to leave the parcel with the neighbour.",
}


@sdk.tool
def lookup_order(order_id: str, reason: str) -> dict[str, Any]:
    return RESULT


def record() -> list[Span]:
    sink = sdk.InMemorySink()
    with tempfile.TemporaryDirectory() as tmp:
        sdk.init(sink=sink, spill_dir=Path(tmp), redact=False, schedule_delay=0.01)
        with sdk.run(agent=None, input="Where is my order ORD-12345?") as run:
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Hi, where is my order ORD-12345? It is late."},
            ]
            with sdk.llm(messages=messages, tools=TOOLS, params={"temperature": 0}) as call:
                call.record(ModelResponse.assistant("Let me look that up for you."))
            lookup_order("ORD-12345", "customer asks where the parcel is")
            run.set_output("Your order shipped with UPS, tracking 1Z999AA10123456784.")
        assert sdk.flush(10)
        sdk.shutdown(10)
    return sink.spans


def payload(s: Span) -> tuple[Any, ...]:
    return (s.trace_id, s.span_id, s.parent_id, s.name, s.kind, s.start_ns, s.end_ns, s.seq,
            s.status, s.error, s.inputs, s.outputs, s.attributes, s.links, s.usage)  # fmt: skip


def timed(fn: Any, arg: Any) -> list[float]:
    out = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn(arg)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def fmt(xs: list[float]) -> str:
    return f"{min(xs):7.1f} / {statistics.median(xs):7.1f} / {max(xs):8.1f}"


def main() -> int:
    spans = record()
    t0 = time.perf_counter()
    from agentdeck.tracing.sdk.secret_patterns import redactor

    red = redactor()
    red.span(spans[0])
    first = time.perf_counter() - t0
    print(f"first redaction in a process (import detect-secrets, compile): {first * 1e3:.0f} ms")
    print(f"{ROUNDS} rounds, microseconds min / median / max")
    print(f"{'span':<8} {'bytes':>6}  {'build':>26}  {'redact':>26}  redact/build")
    total_b = total_r = 0.0
    for s in sorted(spans, key=lambda s: s.kind.value):
        p = payload(s)
        size = len(repr((s.inputs, s.outputs, s.attributes)))
        b = timed(build_span, p)
        r = timed(red.span, s)
        assert red.span(s) is s, "the typical spans hold no secret: nothing is copied"
        total_b += statistics.median(b)
        total_r += statistics.median(r)
        ratio = statistics.median(r) / statistics.median(b)
        print(f"{s.kind.value:<8} {size:>6}  {fmt(b)}  {fmt(r)}  {ratio:5.2f}x")
    tool = next(s for s in spans if s.kind.value == "tool")
    secret = dataclasses.replace(
        tool,
        inputs={"args": {"order_id": "ORD-12345", "note": "retry with password=hunter2-x9"}},
    )
    b, r = timed(build_span, payload(secret)), timed(red.span, secret)
    assert red.span(secret) is not secret
    print(
        f"{'tool+pw':<8} {'':>6}  {fmt(b)}  {fmt(r)}  "
        f"{statistics.median(r) / statistics.median(b):5.2f}x  (a secret to mask)"
    )
    print(f"all spans of the run (medians summed): build {total_b:.1f} us, "
          f"redact {total_r:.1f} us, redact/build {total_r / total_b:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
