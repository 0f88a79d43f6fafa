"""OpenAI Agents SDK integration: the tracing processor's spans for a triage -> weather hand-off
driven by a fake model provider (chat completions served by a scripted server on 127.0.0.1),
and policy enforcement on function tools."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from integ_support import (
    AGENT,
    DenyCity,
    FakeServer,
    Reply,
    guarded,
    of_kind,
    server,
    sink,
    trace_spans,
)

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import SpanKind, SpanStatus
from agentdeck.tracing.sdk import api as sdk

agents = pytest.importorskip("agents")
openai = pytest.importorskip("openai")
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel  # noqa: E402

from agentdeck.integrations.openai_agents import (  # noqa: E402
    AgentdeckTracingProcessor,
    guard_agent,
)

__all__ = ["guarded", "server", "sink"]
MODEL = "gpt-4o-mini-2024-07-18"
ran: list[str] = []


@agents.function_tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    ran.append(city)
    return f"sunny in {city}"


class FakeProvider(agents.ModelProvider):  # type: ignore[misc]
    """Every model is the SDK's chat-completions model talking to the scripted server."""

    def __init__(self, server: FakeServer) -> None:
        self.client = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0)

    def get_model(self, model_name: str | None) -> Any:
        return OpenAIChatCompletionsModel(model=MODEL, openai_client=self.client)


def call(name: str, args: dict[str, Any], cid: str) -> Reply:
    return Reply({"id": f"c-{cid}", "object": "chat.completion", "created": 1, "model": MODEL,
                  "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                      "role": "assistant", "content": None, "tool_calls": [{
                          "id": cid, "type": "function",
                          "function": {"name": name, "arguments": json.dumps(args)}}]}}],
                  "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36}})  # fmt: skip


def say(text: str) -> Reply:
    return Reply({"id": "c-end", "object": "chat.completion", "created": 1, "model": MODEL,
                  "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": text}}],
                  "usage": {"prompt_tokens": 40, "completion_tokens": 3, "total_tokens": 43}})  # fmt: skip


def triage(tools_guarded: bool = False, on_deny: Any = "raise") -> Any:
    weather = agents.Agent(name="weather agent", instructions="Answer weather questions.",
                           tools=[get_weather])  # fmt: skip
    if tools_guarded:
        weather = guard_agent(weather, on_deny=on_deny)
    return agents.Agent(name="triage", instructions="Route the user.", handoffs=[weather])


@pytest.fixture
def processor() -> Iterator[AgentdeckTracingProcessor]:
    p = AgentdeckTracingProcessor(agent=AGENT)
    agents.set_trace_processors([p])  # replaces the SDK's exporter: nothing leaves the machine
    agents.set_tracing_disabled(False)
    yield p
    agents.set_trace_processors([])


def run_agent(server: FakeServer, agent: Any, city: str = "Oslo") -> Any:
    server.replies += [call("transfer_to_weather_agent", {}, "h1"),
                       call("get_weather", {"city": city}, "w1"), say("Sunny.")]  # fmt: skip
    cfg = agents.RunConfig(model_provider=FakeProvider(server))
    return agents.Runner.run_sync(agent, f"Weather in {city}?", run_config=cfg)


def test_processor_maps_agents_generations_handoffs_and_tools(
    sink: Any, server: FakeServer, processor: Any
) -> None:
    ran.clear()
    result = run_agent(server, triage())
    assert result.final_output == "Sunny." and ran == ["Oslo"]
    spans = trace_spans(sink)
    by_id = {s.span_id: s for s in spans}
    (root,) = [s for s in spans if s.parent_id is None]
    assert root.kind is SpanKind.AGENT and root.attributes["agent.name"] == "support-bot"
    assert sink.runs[0].agent_name == "support-bot"
    agent_spans = [s for s in of_kind(spans, SpanKind.AGENT) if s is not root]
    assert [s.name for s in agent_spans] == ["triage", "weather agent"]
    assert all(s.parent_id == root.span_id for s in agent_spans)
    triage_span, weather_span = agent_spans
    (handoff,) = of_kind(spans, SpanKind.HANDOFF)
    assert handoff.attributes["handoff.from"] == "triage"
    assert handoff.attributes["handoff.to"] == "weather agent"
    assert handoff.name == "handoff weather agent"
    assert by_id[handoff.parent_id].parent_id == triage_span.span_id  # in triage's turn
    llms = of_kind(spans, SpanKind.LLM)
    turns = [by_id[s.parent_id] for s in llms]
    assert [t.name for t in turns] == ["turn 1", "turn 2", "turn 3"]
    assert [by_id[t.parent_id].name for t in turns] == ["triage", "weather agent", "weather agent"]
    ask = llms[1]
    assert ask.inputs["messages"][0] == {"role": "system", "content": "Answer weather questions."}
    assert ask.outputs["message"]["tool_calls"] == [
        {"id": "w1", "name": "get_weather", "arguments": {"city": "Oslo"}}]  # fmt: skip
    assert ask.usage is not None and ask.usage.input_tokens == 30
    assert ask.attributes["llm.model"] == MODEL
    tool_spans = [s for s in of_kind(spans, SpanKind.TOOL) if s.name == "get_weather"]
    (tool,) = tool_spans
    assert tool.parent_id == llms[1].parent_id  # in the weather agent's turn
    assert by_id[tool.parent_id].parent_id == weather_span.span_id
    assert tool.inputs == {"args": {"city": "Oslo"}} and tool.outputs == {"result": "sunny in Oslo"}
    assert tool.attributes["tool.call_id"] == "w1"
    assert [lk.span_id for lk in tool.links] == [ask.span_id]
    assert tool.span_id in [lk.span_id for lk in llms[2].links]
    assert llms[2].outputs["message"]["content"] == "Sunny."


def test_trace_inside_an_agentdeck_run_nests_under_it(
    sink: Any, server: FakeServer, processor: Any
) -> None:
    with sdk.run(agent=AGENT, input="q") as run:
        run_agent(server, triage())
    spans = trace_spans(sink)
    assert len(sink.runs) == 1
    assert {s.name for s in spans if s.parent_id == run.span_id} == {"triage", "weather agent"}


def test_guarded_tool_denied_by_policy_stops_the_tool(
    guarded: tuple[Any, DenyCity], server: FakeServer, processor: Any
) -> None:
    sink, guard = guarded
    ran.clear()
    with pytest.raises(agents.exceptions.UserError) as info:
        run_agent(server, triage(tools_guarded=True), city="Atlantis")
    assert isinstance(info.value.__cause__, PolicyDenied)
    assert ran == [] and guard.checked == [("get_weather", {"city": "Atlantis"})]
    spans = trace_spans(sink)
    by_id = {s.span_id: s for s in spans}
    tools = [s for s in of_kind(spans, SpanKind.TOOL) if s.name == "get_weather"]
    (tool,) = tools  # recorded once, by the guarded path, where the SDK's function span was
    assert tool.attributes["tool.denied"] is True and tool.status is SpanStatus.ERROR
    assert by_id[by_id[tool.parent_id].parent_id].name == "weather agent"


def test_guarded_tool_can_tell_the_model_instead_of_raising(
    guarded: tuple[Any, DenyCity], server: FakeServer, processor: Any
) -> None:
    sink, _ = guarded
    ran.clear()
    result = run_agent(server, triage(tools_guarded=True, on_deny="tell_model"), city="Atlantis")
    assert result.final_output == "Sunny." and ran == []
    spans = trace_spans(sink)
    (tool,) = [s for s in of_kind(spans, SpanKind.TOOL) if s.name == "get_weather"]
    assert tool.attributes["tool.denied"] is True
    last = of_kind(spans, SpanKind.LLM)[-1]
    fed_back = last.inputs["messages"][-1]
    assert fed_back["role"] == "tool" and "Policy denied" in fed_back["content"]
