"""Regenerate the OpenAI-side OTLP conformance corpus, offline.

Runs the real instrumentation libraries over the real OpenAI client (and the OpenAI Agents
SDK), pointed at a scripted OpenAI-compatible server on 127.0.0.1 with a dummy key, and stores
each trace as the exact OTLP/HTTP protobuf body the official exporter would send:
``tests/otlp_corpus/<producer>.<version>.bin``, listed in ``manifest_openai.json`` with the
versions of everything that shaped it.

    PYTHONPATH=src python tests/otlp_corpus/generate_openai.py

Producers:

- ``openinference-openai-agents``: two agents (triage -> weather) with a hand-off and a
  function tool that fails once (unknown city) and then answers;
- ``openinference-openai``: a chat.completions tool-calling loop, the tool run in an
  OpenInference TOOL span (``OITracer``), under one OpenInference AGENT span;
- ``otel-openai-v2``: the same loop under ``opentelemetry-instrumentation-openai-v2`` (GenAI
  semantic conventions, content captured), the tool run through ``opentelemetry-util-genai``'s
  ``execute_tool`` invocation and the whole under its ``invoke_agent`` invocation;
Traceloop and Pydantic AI are recorded in venvs of their own (their pins differ from the
project's): ``generate_traceloop.py``, ``generate_pydantic_ai.py``; this script keeps their
entries in the manifest.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

# "true" is the stable-mode switch; the latest-experimental GenAI mode wants SPAN_ONLY.
os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_ONLY"
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
os.environ["OPENAI_API_KEY"] = "sk-dummy-offline"

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)

HERE = Path(__file__).parent
MODEL = "gpt-4o-mini"
SESSION, USER = "conv-42", "u-7"  # the conversation and end user
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]

# --- the scripted OpenAI-compatible server -------------------------------------------------


class Script:
    """Answers popped in order; every request body kept."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def next(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests.append(body)
            return self.answers.pop(0)


@contextmanager
def fake_openai(script: Script) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            data = json.dumps(script.next(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


def chat_answer(n: int, message: dict[str, Any], finish: str, usage: tuple[int, int]) -> dict:
    return {
        "id": f"chatcmpl-{n}",
        "object": "chat.completion",
        "created": 1700000000 + n,
        "model": MODEL + "-2024-07-18",
        "choices": [{"index": 0, "finish_reason": finish, "message": message, "logprobs": None}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def chat_tool_call(n: int, call_id: str, city: str, usage: tuple[int, int]) -> dict:
    call = {
        "id": call_id,
        "type": "function",
        "function": {"name": "get_weather", "arguments": json.dumps({"city": city})},
    }
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    return chat_answer(n, message, "tool_calls", usage)


def response_answer(n: int, output: list[dict[str, Any]], usage: tuple[int, int]) -> dict:
    return {
        "id": f"resp_{n}",
        "object": "response",
        "created_at": 1700000000 + n,
        "status": "completed",
        "model": MODEL + "-2024-07-18",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "truncation": "disabled",
        "usage": {
            "input_tokens": usage[0],
            "output_tokens": usage[1],
            "total_tokens": sum(usage),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }


def function_call(n: int, call_id: str, name: str, arguments: dict[str, Any]) -> dict:
    return {
        "type": "function_call",
        "id": f"fc_{n}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(arguments),
        "status": "completed",
    }


def text_message(n: int, text: str) -> dict:
    return {
        "type": "message",
        "id": f"msg_{n}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def weather(city: str) -> str:
    """The scripted tool: fails for a city it does not know."""
    if city != "Paris":
        raise ValueError(f"unknown city: {city}")
    return "sunny, 21 C"


# --- producers ------------------------------------------------------------------------------


def provider(service: str) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    tp = TracerProvider(resource=Resource.create({"service.name": service}))
    tp.add_span_processor(SimpleSpanProcessor(exporter))
    return tp, exporter


def run_openai_agents(base_url: str, script: Script) -> list[Any]:
    import agents
    from openai import AsyncOpenAI
    from openinference.instrumentation.openai_agents import OpenAIAgentsInstrumentor

    script.answers = [
        response_answer(1, [function_call(1, "call_h1", "transfer_to_weather_agent", {})], (40, 9)),
        response_answer(
            2, [function_call(2, "call_w1", "get_weather", {"city": "Atlantis"})], (60, 12)
        ),
        response_answer(
            3, [function_call(3, "call_w2", "get_weather", {"city": "Paris"})], (80, 12)
        ),
        response_answer(4, [text_message(4, "It is sunny in Paris, 21 C.")], (95, 10)),
    ]
    tp, exporter = provider("agents-demo")
    agents.set_trace_processors([])  # nothing sent to OpenAI's own trace ingest
    OpenAIAgentsInstrumentor().instrument(tracer_provider=tp)
    agents.set_default_openai_client(AsyncOpenAI(base_url=base_url, api_key="sk-dummy"))

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return weather(city)

    weather_agent = agents.Agent(
        name="weather_agent",
        instructions="Answer weather questions with the get_weather tool.",
        tools=[get_weather],
        model=MODEL,
    )
    triage = agents.Agent(
        name="triage_agent",
        instructions="Hand weather questions to the weather agent.",
        handoffs=[weather_agent],
        model=MODEL,
    )
    from openinference.instrumentation import using_attributes

    with using_attributes(session_id=SESSION, user_id=USER):
        result = asyncio.run(agents.Runner.run(triage, "What is the weather in Paris?"))
    assert result.final_output == "It is sunny in Paris, 21 C.", result.final_output
    OpenAIAgentsInstrumentor().uninstrument()
    tp.force_flush()
    return list(exporter.get_finished_spans())


def _chat_script(script: Script) -> None:
    script.answers = [
        chat_tool_call(1, "call_c1", "Atlantis", (50, 11)),
        chat_tool_call(2, "call_c2", "Paris", (75, 11)),
        chat_answer(3, {"role": "assistant", "content": "It is sunny in Paris."}, "stop", (99, 8)),
    ]


def chat_loop(base_url: str, run_tool: Callable[[str, str, dict[str, Any]], str]) -> str:
    """The usual tool-calling loop over chat.completions; ``run_tool(call_id, name, args)``."""
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="sk-dummy")
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You answer weather questions."},
        {"role": "user", "content": "What is the weather in Paris?"},
    ]
    for _ in range(5):
        answer = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        msg = answer.choices[0].message
        if not msg.tool_calls:
            return msg.content or ""
        messages.append(msg.model_dump(exclude_none=True))
        for call in msg.tool_calls:
            args = json.loads(call.function.arguments)
            try:
                content = run_tool(call.id, call.function.name, args)
            except ValueError as exc:
                content = f"error: {exc}"
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    raise RuntimeError("no final answer")


def run_openinference_openai(base_url: str, script: Script) -> list[Any]:
    from openinference.instrumentation import OITracer, TraceConfig
    from openinference.instrumentation.openai import OpenAIInstrumentor
    from opentelemetry.trace import Status, StatusCode

    _chat_script(script)
    tp, exporter = provider("oi-openai-demo")
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    tracer = OITracer(tp.get_tracer("weather-app"), config=TraceConfig())

    def run_tool(call_id: str, name: str, args: dict[str, Any]) -> str:
        with tracer.start_as_current_span(name, openinference_span_kind="tool") as span:
            span.set_tool(name=name, description="The weather in a city.", parameters=TOOLS[0])
            span.set_attribute("tool_call.id", call_id)
            span.set_input(json.dumps(args), mime_type="application/json")
            try:
                result = weather(**args)
            except ValueError as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                raise
            span.set_output(result)
            span.set_status(Status(StatusCode.OK))
            return result

    from openinference.instrumentation import using_attributes

    with (
        using_attributes(session_id=SESSION, user_id=USER),
        tracer.start_as_current_span("weather_bot", openinference_span_kind="agent") as root,
    ):
        root.set_attribute("agent.name", "weather_bot")
        root.set_input("What is the weather in Paris?")
        final = chat_loop(base_url, run_tool)
        root.set_output(final)
        root.set_status(Status(StatusCode.OK))
    OpenAIInstrumentor().uninstrument()
    return list(exporter.get_finished_spans())


def run_otel_openai_v2(base_url: str, script: Script) -> list[Any]:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
    from opentelemetry.util.genai.handler import TelemetryHandler

    _chat_script(script)
    tp, exporter = provider("otel-openai-demo")
    OpenAIInstrumentor().instrument(tracer_provider=tp)
    handler = TelemetryHandler(tracer_provider=tp)

    def run_tool(call_id: str, name: str, args: dict[str, Any]) -> str:
        with handler.tool(name, tool_call_id=call_id, tool_type="function") as inv:
            inv.arguments = args
            inv.tool_result = weather(**args)
            return str(inv.tool_result)

    with handler.invoke_local_agent(agent_name="weather_bot", request_model=MODEL) as agent:
        agent.conversation_id = SESSION  # GenAI names no end user
        final = chat_loop(base_url, run_tool)
    assert final == "It is sunny in Paris.", final
    OpenAIInstrumentor().uninstrument()
    return list(exporter.get_finished_spans())


PRODUCERS: dict[str, tuple[str, Callable[[str, Script], list[Any]]]] = {
    "openinference-openai-agents": (
        "openinference-instrumentation-openai-agents",
        run_openai_agents,
    ),
    "openinference-openai": ("openinference-instrumentation-openai", run_openinference_openai),
    "otel-openai-v2": ("opentelemetry-instrumentation-openai-v2", run_otel_openai_v2),
}
PINNED = (
    "openai",
    "openai-agents",
    "opentelemetry-sdk",
    "opentelemetry-util-genai",  # 1.1b0: openai-v2 2.4b0 needs its ``instruments`` module
    "openinference-instrumentation",
    "openinference-semantic-conventions",
)


def main() -> None:
    path = HERE / "manifest_openai.json"
    kept = json.loads(path.read_text())["producers"] if path.exists() else {}
    manifest: dict[str, Any] = {
        "producers": {k: v for k, v in kept.items() if k not in PRODUCERS},
        "libraries": {p: version(p) for p in PINNED},
    }
    for producer, (package, run) in PRODUCERS.items():
        script = Script()
        with fake_openai(script) as base_url:
            spans = run(base_url, script)
        assert not script.answers, f"{producer}: {len(script.answers)} answers left"
        body = encode_spans(spans).SerializeToString()
        name = f"{producer}.{version(package)}.bin"
        (HERE / name).write_bytes(body)
        manifest["producers"][producer] = {
            "file": name,
            "package": package,
            "version": version(package),
            "spans": len(spans),
            "traces": len({s.context.trace_id for s in spans}),
        }
        print(f"{name}: {len(spans)} spans")
    path.write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
