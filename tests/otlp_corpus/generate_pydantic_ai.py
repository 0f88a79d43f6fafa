"""Record the Pydantic AI producer of the OTLP conformance corpus, offline.

Pydantic AI instruments itself with OpenTelemetry (GenAI semantic conventions; the format
``InstrumentationSettings(version=...)`` picks, recorded in the manifest). Two agents, the
triage agent delegating to the weather agent through a tool (Pydantic AI's agent-delegation
pattern), the weather agent's ``get_weather`` tool asking for a retry (``ModelRetry``) for a
city it does not know, all on the real OpenAI client against the scripted server of
``generate_openai.py``. Run it in a venv with ``pydantic-ai-slim[openai]`` and the
OpenTelemetry SDK:

    python -m venv /tmp/pa && /tmp/pa/bin/pip install 'pydantic-ai-slim[openai]' \
        opentelemetry-sdk opentelemetry-exporter-otlp-proto-common
    PYTHONPATH=tests/otlp_corpus /tmp/pa/bin/python tests/otlp_corpus/generate_pydantic_ai.py
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from generate_openai import Script, chat_answer, fake_openai, provider, weather
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from pydantic_ai import Agent, ModelRetry, RunContext
from pydantic_ai.models.instrumented import InstrumentationSettings
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

HERE = Path(__file__).parent
MODEL = "gpt-4o-mini"
QUESTION = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris, 21 C."


def _call(n: int, call_id: str, name: str, args: dict[str, Any], usage: tuple[int, int]) -> dict:
    call = {"id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)}}  # fmt: skip
    return chat_answer(n, {"role": "assistant", "content": None, "tool_calls": [call]},
                       "tool_calls", usage)  # fmt: skip


def record(base_url: str, script: Script) -> tuple[list[Any], int]:
    script.answers = [
        _call(1, "call_t1", "ask_weather_agent", {"question": QUESTION}, (52, 14)),
        _call(2, "call_w1", "get_weather", {"city": "Atlantis"}, (61, 12)),
        _call(3, "call_w2", "get_weather", {"city": "Paris"}, (88, 12)),
        chat_answer(4, {"role": "assistant", "content": ANSWER}, "stop", (104, 10)),
        chat_answer(5, {"role": "assistant", "content": ANSWER}, "stop", (83, 10)),
    ]
    tp, exporter = provider("pydantic-ai-demo")
    settings = InstrumentationSettings(tracer_provider=tp, include_content=True)
    model = OpenAIChatModel(MODEL, provider=OpenAIProvider(base_url=base_url, api_key="sk-dummy"))
    Agent.instrument_all(settings)
    weather_agent = Agent(model, name="weather_agent",
                          instructions="Answer weather questions with get_weather.")  # fmt: skip
    triage = Agent(model, name="triage_agent",
                   instructions="Ask the weather agent about the weather.")  # fmt: skip

    @weather_agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        try:
            return weather(city)
        except ValueError as exc:
            raise ModelRetry(f"{exc}; ask about a real city") from exc

    @triage.tool
    async def ask_weather_agent(ctx: RunContext[None], question: str) -> str:
        """Ask the weather agent."""
        result = await weather_agent.run(question, usage=ctx.usage)
        return result.output

    result = triage.run_sync(QUESTION, conversation_id="conv-42")  # GenAI names no end user
    assert result.output == ANSWER, result.output
    tp.force_flush()
    return list(exporter.get_finished_spans()), settings.version


def main() -> None:
    script = Script()
    with fake_openai(script) as base_url:
        spans, fmt = record(base_url, script)
    assert not script.answers, f"{len(script.answers)} answers left"
    name = f"pydantic-ai.{version('pydantic-ai-slim')}.bin"
    (HERE / name).write_bytes(encode_spans(spans).SerializeToString())
    manifest_path = HERE / "manifest_openai.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["producers"]["pydantic-ai"] = {
        "file": name,
        "package": "pydantic-ai-slim",
        "version": version("pydantic-ai-slim"),
        "instrumentation_format": fmt,
        "libraries": {p: version(p) for p in ("openai", "opentelemetry-sdk")},
        "spans": len(spans),
        "traces": len({s.context.trace_id for s in spans}),
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{name}: {len(spans)} spans")


if __name__ == "__main__":
    main()
