"""Decode throughput of the OTLP receiver's conversion, against protobuf parsing alone.

A realistic batch: 64 runs of 8 spans (agent, 3 LLM calls carrying their context window,
4 tool calls with arguments and results), recorded with the official OpenTelemetry SDK with
GenAI attributes, half of the runs with OpenInference attributes instead, encoded with the
official OTLP encoder. Prints spans/s for ``decode_otlp`` (protobuf, JSON, gzip) and for
``ExportTraceServiceRequest.ParseFromString`` of the same bytes, and their ratio.

    .venv/bin/python bench/otlp_decode_bench.py

Timed in CPU seconds of this process (``time.process_time``): steadier than wall time on a
shared machine; rates are per CPU-second.
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from agentdeck.tracing.otlp.decode import decode_otlp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, emit

RUNS = 64


def _messages(turn: int) -> list[dict[str, object]]:
    msgs: list[dict[str, object]] = [
        {
            "role": "system",
            "parts": [{"type": "text", "content": "You are a support agent. " * 20}],
        },
        {"role": "user", "parts": [{"type": "text", "content": "My order #1234 has not arrived."}]},
    ]
    for i in range(turn):
        msgs.append(
            {
                "role": "assistant",
                "parts": [
                    {"type": "tool_call", "id": f"c{i}", "name": "lookup", "arguments": {"id": i}}
                ],
            }
        )
        msgs.append(
            {
                "role": "tool",
                "parts": [
                    {"type": "tool_call_response", "id": f"c{i}", "response": "shipped " * 10}
                ],
            }
        )
    return msgs


def _genai_run(tracer: Tracer) -> None:
    with tracer.start_as_current_span(
        "invoke_agent support",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"},
    ):
        for turn in range(3):
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.provider.name": "openai",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.response.model": "gpt-4o-2024-08-06",
                    "gen_ai.request.temperature": 0.2,
                    "gen_ai.usage.input_tokens": 900,
                    "gen_ai.usage.output_tokens": 40,
                    "gen_ai.input.messages": json.dumps(_messages(turn)),
                    "gen_ai.output.messages": json.dumps(
                        [
                            {
                                "role": "assistant",
                                "parts": [{"type": "text", "content": "ok"}],
                                "finish_reason": "stop",
                            }
                        ]
                    ),
                },
            ):
                pass
        for i in range(4):
            with tracer.start_as_current_span(
                "execute_tool lookup",
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "lookup",
                    "gen_ai.tool.call.id": f"c{i}",
                    "gen_ai.tool.call.arguments": json.dumps(
                        {"id": i, "fields": ["status", "eta"]}
                    ),
                    "gen_ai.tool.call.result": json.dumps({"status": "shipped", "eta": "2d"}),
                },
            ):
                pass


def _openinference_run(tracer: Tracer) -> None:
    with tracer.start_as_current_span(
        "Agent",
        attributes={
            "openinference.span.kind": "AGENT",
            "agent.name": "support",
            "input.value": "hi",
        },
    ):
        for turn in range(3):
            attrs: dict[str, object] = {
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o",
                "llm.token_count.prompt": 900,
                "llm.token_count.completion": 40,
            }
            for i, m in enumerate(_messages(turn)):
                attrs[f"llm.input_messages.{i}.message.role"] = m["role"]
                attrs[f"llm.input_messages.{i}.message.content"] = json.dumps(m["parts"])
            attrs["llm.output_messages.0.message.role"] = "assistant"
            attrs["llm.output_messages.0.message.content"] = "ok"
            with tracer.start_as_current_span("ChatOpenAI", attributes=attrs):  # type: ignore[arg-type]
                pass
        for i in range(4):
            with tracer.start_as_current_span(
                "lookup",
                attributes={
                    "openinference.span.kind": "TOOL",
                    "tool.name": "lookup",
                    "input.value": json.dumps({"id": i}),
                    "output.value": json.dumps({"status": "shipped"}),
                },
            ):
                pass


def _batch() -> ExportTraceServiceRequest:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "bench"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("bench")
    for i in range(RUNS):
        (_genai_run if i % 2 == 0 else _openinference_run)(tracer)
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans())


def _json_body(request: ExportTraceServiceRequest) -> bytes:
    doc = MessageToDict(request)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for sp in ss["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in sp:
                        sp[key] = base64.b64decode(sp[key]).hex()
    return json.dumps(doc).encode()


def _rate(fn: Callable[[], object], spans: int, seconds: float = 1.5) -> float:
    fn()  # warm up
    done, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        fn()
        done += 1
    return done * spans / elapsed


def main() -> None:
    request = _batch()
    body = request.SerializeToString()
    spans = len(decode_otlp(body, "application/x-protobuf").spans)
    gz = gzip.compress(body)
    js = _json_body(request)
    parse = _rate(lambda: ExportTraceServiceRequest().ParseFromString(body), spans)
    rows = [
        ("decode_otlp protobuf", _rate(lambda: decode_otlp(body, "application/x-protobuf"), spans)),
        (
            "decode_otlp protobuf+gzip",
            _rate(lambda: decode_otlp(gz, "application/x-protobuf", "gzip"), spans),
        ),
        ("decode_otlp JSON", _rate(lambda: decode_otlp(js, "application/json"), spans)),
    ]
    print(
        f"batch: {spans} spans, {len(body) / 1024:.0f} KiB protobuf, {len(js) / 1024:.0f} KiB JSON"
    )
    print(f"{'ParseFromString alone (baseline)':34s} {parse:12,.0f} spans/s")
    for name, rate in rows:
        print(f"{name:34s} {rate:12,.0f} spans/s   {parse / rate:5.1f}x slower than parsing alone")
    emit(
        "otlp_decode",
        *(Ratio(f"{name}/ParseFromString (CPU)", parse / rate) for name, rate in rows),
    )


if __name__ == "__main__":
    main()
