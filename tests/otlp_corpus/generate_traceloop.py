"""Record the Traceloop (OpenLLMetry) producer of the OTLP conformance corpus, offline.

``traceloop-sdk`` pins its own OpenTelemetry SDK and pulls some forty instrumentations, so it
is recorded in a venv of its own: the SDK without its dependencies, plus the OpenAI
instrumentation and what the SDK imports. The chat.completions tool-calling loop of
``generate_openai.py`` runs under Traceloop's ``@agent`` with the tool in a ``@tool``, the
model on the real OpenAI client against the scripted server (no network: telemetry off, no
API key, the exporter in memory).

    python -m venv /tmp/tl && /tmp/tl/bin/pip install --no-deps traceloop-sdk==0.62.4
    /tmp/tl/bin/pip install openai opentelemetry-sdk==1.45.1 \
        opentelemetry-exporter-otlp-proto-http==1.45.1 opentelemetry-exporter-otlp-proto-grpc==1.45.1 \
        opentelemetry-instrumentation-openai==0.62.4 'opentelemetry-semantic-conventions-ai<0.6' \
        opentelemetry-instrumentation-threading opentelemetry-instrumentation-logging \
        opentelemetry-instrumentation-requests opentelemetry-instrumentation-urllib3 \
        opentelemetry-instrumentation-sqlalchemy colorama cuid deprecated jinja2 tenacity aiohttp
    PYTHONPATH=tests/otlp_corpus /tmp/tl/bin/python tests/otlp_corpus/generate_traceloop.py
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version
from pathlib import Path
from typing import Any

os.environ["TRACELOOP_TELEMETRY"] = "false"
os.environ["TRACELOOP_METRICS_ENABLED"] = "false"
os.environ["TRACELOOP_TRACE_CONTENT"] = "true"

from generate_openai import Script, _chat_script, chat_loop, fake_openai, weather
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

HERE = Path(__file__).parent


def record(base_url: str, script: Script) -> list[Any]:
    from traceloop.sdk import Traceloop
    from traceloop.sdk.decorators import agent, tool
    from traceloop.sdk.instruments import Instruments

    _chat_script(script)
    exporter = InMemorySpanExporter()
    Traceloop.init(
        app_name="traceloop-demo",
        api_endpoint="http://127.0.0.1:9",
        exporter=exporter,
        disable_batch=True,
        telemetry_enabled=False,
        instruments={Instruments.OPENAI},
    )

    @tool(name="get_weather")
    def get_weather(city: str) -> str:
        return weather(city)

    @agent(name="weather_bot")
    def weather_bot(question: str) -> str:
        return chat_loop(base_url, lambda _id, _name, args: get_weather(**args))

    Traceloop.set_association_properties({"session_id": "conv-42", "user_id": "u-7"})
    final = weather_bot("What is the weather in Paris?")
    assert final == "It is sunny in Paris.", final
    return list(exporter.get_finished_spans())


def main() -> None:
    script = Script()
    with fake_openai(script) as base_url:
        spans = record(base_url, script)
    assert not script.answers, f"{len(script.answers)} answers left"
    name = f"traceloop.{version('traceloop-sdk')}.bin"
    (HERE / name).write_bytes(encode_spans(spans).SerializeToString())
    manifest_path = HERE / "manifest_openai.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["producers"]["traceloop"] = {
        "file": name,
        "package": "traceloop-sdk",
        "version": version("traceloop-sdk"),
        "libraries": {
            p: version(p)
            for p in ("openai", "opentelemetry-sdk", "opentelemetry-instrumentation-openai")
        },
        "spans": len(spans),
        "traces": len({s.context.trace_id for s in spans}),
    }
    manifest.pop("skipped", None)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{name}: {len(spans)} spans")


if __name__ == "__main__":
    main()
