"""Real OpenTelemetry SDK spans for the OTLP tests: a GenAI-instrumented agent run and an
OpenInference-instrumented one, encoded with the official OTLP protobuf encoder."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    Tracer,
    set_span_in_context,
)


def record(
    build: Callable[[Tracer], None], resource: dict[str, Any] | None = None
) -> tuple[ExportTraceServiceRequest, list[ReadableSpan]]:
    """Run ``build`` against a fresh SDK tracer; return the OTLP request and the SDK spans."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(resource or {"service.name": "demo"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    build(provider.get_tracer("test-instrumentation"))
    provider.shutdown()
    spans = list(exporter.get_finished_spans())
    return encode_spans(spans), spans


def genai_agent_run(tracer: Tracer) -> None:
    """An agent that asks a model, which calls a tool (twice with the same call id), then hands
    off; attributes per the GenAI semantic conventions, status left UNSET as OTel does."""
    with tracer.start_as_current_span(
        "invoke_agent support-bot",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-bot",
            "gen_ai.agent.version": "7",
            "gen_ai.provider.name": "openai",
        },
    ) as agent:
        agent.add_event(
            "exception", {"exception.type": "GraphInterrupt", "exception.message": "control flow"}
        )
        with tracer.start_as_current_span(
            "chat gpt-4o",
            kind=SpanKind.CLIENT,
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.response.model": "gpt-4o-2024-08-06",
                "gen_ai.request.temperature": 0.2,
                "gen_ai.request.max_tokens": 256,
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
                "gen_ai.usage.cache_read.input_tokens": 64,
                "gen_ai.system_instructions": json.dumps(
                    [{"type": "text", "content": "Be brief."}]
                ),
                "gen_ai.input.messages": json.dumps(
                    [{"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}]
                ),
                "gen_ai.output.messages": json.dumps(
                    [
                        {
                            "role": "assistant",
                            "parts": [
                                {
                                    "type": "tool_call",
                                    "id": "call_1",
                                    "name": "get_weather",
                                    "arguments": {"city": "Paris"},
                                }
                            ],
                            "finish_reason": "tool_call",
                        }
                    ]
                ),
                "gen_ai.tool.definitions": json.dumps(
                    [{"type": "function", "name": "get_weather"}]
                ),
            },
        ):
            pass
        for result in ("sunny", "rainy"):
            with tracer.start_as_current_span(
                "execute_tool get_weather",
                attributes={
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": "get_weather",
                    "gen_ai.tool.call.id": "call_1",
                    "gen_ai.tool.call.arguments": json.dumps({"city": "Paris"}),
                    "gen_ai.tool.call.result": json.dumps({"forecast": result}),
                },
            ):
                pass
        with tracer.start_as_current_span(
            "execute_tool transfer_to_billing",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "transfer_to_billing",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool lookup_invoice",
            attributes={
                "gen_ai.operation.name": "execute_tool",
                "gen_ai.tool.name": "lookup_invoice",
            },
        ) as failing:
            failing.set_status(Status(StatusCode.ERROR, "invoice service down"))


def openinference_run(tracer: Tracer) -> None:
    """The same kind of run as Arize's instrumentations record it: no gen_ai.* at all, OK
    status, flattened messages."""
    with tracer.start_as_current_span(
        "Agent",
        attributes={
            "openinference.span.kind": "CHAIN",
            "agent.name": "researcher",
            "input.value": json.dumps({"question": "capital of France?"}),
            "input.mime_type": "application/json",
            "output.value": "Paris",
            "output.mime_type": "text/plain",
        },
    ) as chain:
        chain.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span(
            "ChatOpenAI",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "gpt-4o-mini",
                "llm.provider": "openai",
                "llm.invocation_parameters": json.dumps({"temperature": 0}),
                "llm.input_messages.0.message.role": "system",
                "llm.input_messages.0.message.content": "You research.",
                "llm.input_messages.1.message.role": "user",
                "llm.input_messages.1.message.contents.0.message_content.type": "text",
                "llm.input_messages.1.message.contents.0.message_content.text": "capital of France?",
                "llm.output_messages.0.message.role": "assistant",
                "llm.output_messages.0.message.tool_calls.0.tool_call.id": "t1",
                "llm.output_messages.0.message.tool_calls.0.tool_call.function.name": "search",
                "llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments": json.dumps(
                    {"q": "capital of France"}
                ),
                "llm.tools.0.tool.json_schema": json.dumps(
                    {"type": "function", "function": {"name": "search"}}
                ),
                "llm.token_count.prompt": 50,
                "llm.token_count.completion": 8,
                "llm.token_count.total": 58,
            },
        ) as llm:
            llm.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span(
            "search",
            attributes={
                "openinference.span.kind": "TOOL",
                "tool.name": "search",
                "tool.id": "t1",
                "input.value": json.dumps({"q": "capital of France"}),
                "input.mime_type": "application/json",
                "output.value": "Paris is the capital of France.",
            },
        ) as tool:
            tool.set_status(Status(StatusCode.OK))
        with tracer.start_as_current_span(
            "handoff to writer", attributes={"openinference.span.kind": "TOOL"}
        ) as handoff:
            handoff.set_status(Status(StatusCode.OK))
        for oi_kind in ("GUARDRAIL", "EVALUATOR", "RETRIEVER"):
            with tracer.start_as_current_span(
                oi_kind.lower(), attributes={"openinference.span.kind": oi_kind}
            ):
                pass


REMOTE_TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
REMOTE_PARENT_ID = 0x00F067AA0BA902B7


def remote_child_run(tracer: Tracer) -> None:
    """An agent invoked by another service whose span (the trace's root) is never exported
    here: the agent span's parent is remote. A model call naming the agent, a failing tool,
    a tool that works; statuses left UNSET as OTel does, but for the failure."""
    remote = NonRecordingSpan(
        SpanContext(REMOTE_TRACE_ID, REMOTE_PARENT_ID, is_remote=True, trace_flags=TraceFlags(1))
    )
    with tracer.start_as_current_span(
        "invoke_agent support-bot",
        context=set_span_in_context(remote),
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-bot",
            "gen_ai.agent.version": "7",
        },
    ):
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.agent.name": "support-bot",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool lookup_invoice",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"},
        ) as failing:
            failing.set_status(Status(StatusCode.ERROR, "invoice service down"))
        with tracer.start_as_current_span(
            "execute_tool get_weather",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "weather"},
        ):
            pass


def to_otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """OTLP/JSON as the specification writes it: ids in hex, not protobuf-JSON's base64."""
    doc = MessageToDict(request)
    for rs in doc.get("resourceSpans", []):
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                for holder in (sp, *sp.get("links", [])):
                    for key in ("traceId", "spanId", "parentSpanId"):
                        if key in holder:
                            holder[key] = base64.b64decode(holder[key]).hex()
    return json.dumps(doc).encode()
