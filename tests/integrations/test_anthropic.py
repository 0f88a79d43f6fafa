"""Anthropic SDK integration: messages with tool_use / tool_result blocks, plain and streamed,
recorded as llm spans; the client talks to a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from integ_support import AGENT, FakeServer, Reply, of_kind, server, sink, trace_spans

from agentdeck.core.trace.model import SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk

anthropic = pytest.importorskip("anthropic")
from agentdeck.integrations.anthropic import instrument  # noqa: E402

__all__ = ["server", "sink"]

MODEL = "claude-test-1"
TOOLS = [{"name": "get_weather", "description": "Weather for a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]  # fmt: skip


def message(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": MODEL,
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 40, "output_tokens": 15, "cache_read_input_tokens": 5}}  # fmt: skip


TOOL_USE = [{"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Oslo"}}]  # fmt: skip


def ev(kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"type": kind, **data}


STREAM = [
    ev("message_start", message={**message([]), "stop_reason": None,
                                 "usage": {"input_tokens": 40, "output_tokens": 1}}),
    ev("content_block_start", index=0, content_block={"type": "text", "text": ""}),
    ev("content_block_delta", index=0, delta={"type": "text_delta", "text": "Checking"}),
    ev("content_block_delta", index=0, delta={"type": "text_delta", "text": " now."}),
    ev("content_block_stop", index=0),
    ev("content_block_start", index=1, content_block={"type": "tool_use", "id": "toolu_2",
                                                     "name": "get_weather", "input": {}}),
    ev("content_block_delta", index=1, delta={"type": "input_json_delta", "partial_json": '{"ci'}),
    ev("content_block_delta", index=1, delta={"type": "input_json_delta",
                                              "partial_json": 'ty": "Bergen"}'}),
    ev("content_block_stop", index=1),
    ev("message_delta", delta={"stop_reason": "tool_use", "stop_sequence": None},
       usage={"output_tokens": 22}),
    ev("message_stop"),
]  # fmt: skip


def client(server: FakeServer) -> Any:
    return instrument(anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0))


@sdk.tool(name="get_weather")
def get_weather(city: str) -> str:
    return f"sunny in {city}"


def test_tool_use_and_tool_result_blocks_map_to_linked_spans(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(message(TOOL_USE, "tool_use")),
                       Reply(message([{"type": "text", "text": "Sunny."}]))]  # fmt: skip
    c = client(server)
    msgs: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
    with sdk.run(agent=AGENT, input="q"):
        first = c.messages.create(model=MODEL, max_tokens=256, system="Be brief.",
                                  messages=msgs, tools=TOOLS)  # fmt: skip
        use = first.content[1]
        result = get_weather(**use.input)
        msgs += [{"role": "assistant", "content": first.content},
                 {"role": "user", "content": [
                     {"type": "tool_result", "tool_use_id": use.id, "content": result}]}]  # fmt: skip
        final = c.messages.create(model=MODEL, max_tokens=256, messages=msgs, tools=TOOLS)
    assert final.content[0].text == "Sunny."
    spans = trace_spans(sink)
    root = next(s for s in spans if s.parent_id is None)
    llm1, llm2 = of_kind(spans, SpanKind.LLM)
    (tool,) = of_kind(spans, SpanKind.TOOL)
    assert llm1.parent_id == root.span_id and llm1.attributes["llm.provider"] == "anthropic"
    assert llm1.inputs["messages"] == [{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": "Weather in Oslo?"}]  # fmt: skip
    assert llm1.inputs["tools"] == TOOLS
    assert llm1.attributes["llm.params"] == {"model": MODEL, "max_tokens": 256}
    assert llm1.outputs["message"] == {
        "role": "assistant", "content": "Let me check.",
        "tool_calls": [{"id": "toolu_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]}  # fmt: skip
    assert llm1.usage == TokenUsage(45, 15, cache_read_tokens=5)  # input counts cached tokens
    assert llm1.attributes["llm.finish_reason"] == "tool_use"
    assert tool.attributes["tool.call_id"] == "toolu_1"
    assert [lk.span_id for lk in tool.links] == [llm1.span_id]
    assert tool.span_id in [lk.span_id for lk in llm2.links]
    assert llm2.inputs["messages"][-1] == {"role": "tool", "tool_call_id": "toolu_1",
                                           "content": "sunny in Oslo"}  # fmt: skip
    assert llm2.inputs["messages"][-2]["tool_calls"][0]["id"] == "toolu_1"


def test_stream_events_accumulate_text_and_tool_input(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        events = list(c.messages.create(model=MODEL, max_tokens=64, stream=True,
                                        messages=[{"role": "user", "content": "q"}]))  # fmt: skip
    assert events[0].type == "message_start" and len(events) == len(STREAM)
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"] == {
        "role": "assistant", "content": "Checking now.",
        "tool_calls": [{"id": "toolu_2", "name": "get_weather", "arguments": {"city": "Bergen"}}]}  # fmt: skip
    assert llm.usage == TokenUsage(40, 22)
    assert llm.attributes["llm.finish_reason"] == "tool_use"
    assert llm.attributes["llm.stream_complete"] is True


def test_stream_closed_early_records_partial_text(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.messages.create(model=MODEL, max_tokens=64, stream=True, messages=[])
        for e in stream:
            if e.type == "content_block_delta":
                break
        stream.close()
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"]["content"] == "Checking"
    assert llm.attributes["llm.stream_complete"] is False and llm.status is SpanStatus.OK


def test_async_client_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(message([{"type": "text", "text": "hi"}])))
    c = instrument(anthropic.AsyncAnthropic(base_url=server.url, api_key="t", max_retries=0))

    async def main() -> Any:
        async with sdk.run(agent=AGENT, input="q"):
            return await c.messages.create(model=MODEL, max_tokens=8, messages=[])

    assert asyncio.run(main()).content[0].text == "hi"
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"] == {"role": "assistant", "content": "hi"}


def test_tool_result_errors_and_mixed_blocks_are_kept(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(message([{"type": "text", "text": "ok"}])))
    c = client(server)
    msgs = [{"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
         "content": [{"type": "text", "text": "timeout"}]},
        {"type": "text", "text": "try again"}]}]  # fmt: skip
    with sdk.run(agent=AGENT, input="q"):
        c.messages.create(model=MODEL, max_tokens=8, messages=msgs)
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.inputs["messages"] == [
        {"role": "tool", "tool_call_id": "t1", "content": "timeout", "is_error": True},
        {"role": "user", "content": "try again"},
    ]
