"""OpenAI SDK integration: chat completions and the Responses API, plain and streamed, recorded
as llm spans; the client talks to a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from integ_support import AGENT, FakeServer, Reply, guarded, of_kind, server, sink, trace_spans

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.tools import guarded_call

openai = pytest.importorskip("openai")
from agentdeck.integrations.openai import instrument  # noqa: E402

__all__ = ["guarded", "server", "sink"]

MODEL = "gpt-4o-mini-2024-07-18"
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]  # fmt: skip


def completion(
    message: dict[str, Any], finish: str = "stop", cid: str = "chatcmpl-1"
) -> dict[str, Any]:
    return {
        "id": cid, "object": "chat.completion", "created": 1, "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62,
                  "prompt_tokens_details": {"cached_tokens": 8},
                  "completion_tokens_details": {"reasoning_tokens": 3}},
    }  # fmt: skip


TOOL_CALL = {"role": "assistant", "content": None, "tool_calls": [{
    "id": "call_1", "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}}]}  # fmt: skip


def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> dict[str, Any]:
    return {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if delta is not None else [],
            "usage": usage}  # fmt: skip


STREAM_CALL = [
    (None, chunk({"role": "assistant", "content": None, "tool_calls": [{"index": 0, "id": "call_9",
     "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})),
    (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]})),
    (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Bergen"}'}}]})),
    (None, chunk({}, finish="tool_calls")),
    (None, chunk(None, usage={"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27})),
    (None, "[DONE]"),
]  # fmt: skip

STREAM_TEXT = [(None, chunk({"role": "assistant", "content": w})) for w in ("It ", "is ", "sunny")]
STREAM_TEXT += [(None, chunk({}, finish="stop")), (None, "[DONE]")]


def client(server: FakeServer) -> Any:
    return instrument(openai.OpenAI(base_url=server.url + "/v1", api_key="test", max_retries=0))


@sdk.tool(name="get_weather")
def get_weather(city: str) -> str:
    return f"sunny in {city}"


def test_chat_tool_loop_records_llm_spans_linked_to_the_tool(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(completion(TOOL_CALL, "tool_calls")),
                       Reply(completion({"role": "assistant", "content": "Sunny."}, cid="c2"))]  # fmt: skip
    c = client(server)
    messages: list[Any] = [{"role": "system", "content": "Be brief."},
                           {"role": "user", "content": "Weather in Oslo?"}]  # fmt: skip
    with sdk.run(agent=AGENT, input="Weather in Oslo?") as run:
        first = c.chat.completions.create(
            model=MODEL, messages=messages, tools=TOOLS, temperature=0.2
        )
        call = first.choices[0].message.tool_calls[0]
        result = get_weather(city="Oslo")
        messages += [first.choices[0].message,
                     {"role": "tool", "tool_call_id": call.id, "content": result}]  # fmt: skip
        final = c.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
        run.set_output(final.choices[0].message.content)

    assert final.choices[0].message.content == "Sunny."  # the caller sees the real response
    spans = trace_spans(sink)
    root = next(s for s in spans if s.parent_id is None)
    llm1, llm2 = of_kind(spans, SpanKind.LLM)
    (tool,) = of_kind(spans, SpanKind.TOOL)
    assert llm1.parent_id == llm2.parent_id == root.span_id
    assert llm1.name == f"chat {MODEL}"
    assert llm1.attributes["llm.provider"] == "openai"
    assert llm1.attributes["llm.model"] == MODEL and llm1.attributes["llm.response_model"] == MODEL
    assert llm1.attributes["llm.params"] == {"model": MODEL, "temperature": 0.2}
    assert llm1.attributes["llm.finish_reason"] == "tool_calls"
    assert llm1.inputs["messages"] == messages[:2]
    assert llm1.inputs["tools"] == [{"name": "get_weather", "description": "Weather for a city",
                                     "input_schema": TOOLS[0]["function"]["parameters"]}]  # fmt: skip
    assert llm1.outputs["message"]["tool_calls"] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]  # fmt: skip
    assert llm1.usage == TokenUsage(50, 12, cache_read_tokens=8, reasoning_tokens=3)
    # the tool span answers the first call; the second call consumed the tool's result
    assert tool.attributes["tool.call_id"] == "call_1"
    assert [lk.span_id for lk in tool.links] == [llm1.span_id]
    assert tool.span_id in [lk.span_id for lk in llm2.links]
    fed_back = llm2.inputs["messages"]
    assert fed_back[2]["tool_calls"][0]["arguments"] == {"city": "Oslo"}
    assert fed_back[3] == {"role": "tool", "content": "sunny in Oslo", "tool_call_id": "call_1"}
    assert llm2.outputs["message"]["content"] == "Sunny."


def test_streamed_tool_call_is_accumulated_and_recorded_at_the_end(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_CALL))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}],
                                           tools=TOOLS, stream=True,
                                           stream_options={"include_usage": True})  # fmt: skip
        seen = list(stream)
    assert len(seen) == 5  # the caller's iteration is untouched
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "call_9", "name": "get_weather", "arguments": {"city": "Bergen"}}]  # fmt: skip
    assert llm.usage == TokenUsage(20, 7)
    assert llm.attributes["llm.stream"] is True and llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.params"]["stream"] is True


def test_stream_abandoned_early_records_what_was_seen(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}],
                                           stream=True)  # fmt: skip
        got = []
        for ch in stream:
            got.append(ch.choices[0].delta.content)
            if len(got) == 2:
                break
    assert got == ["It ", "is "]
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"]["content"] == "It is "
    assert llm.attributes["llm.stream_complete"] is False
    assert llm.status is SpanStatus.OK


def test_stream_used_as_context_manager_records_once(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        c.chat.completions.create(model=MODEL, messages=[], stream=True) as stream,
    ):
        text = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
    assert text == "It is sunny"
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"]["content"] == "It is sunny"
    assert llm.attributes["llm.stream_complete"] is True


def test_api_error_is_recorded_and_reaches_the_caller(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply({"error": {"message": "boom", "type": "server_error"}}, status=500))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"), pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}])
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.status is SpanStatus.ERROR and "InternalServerError" in (llm.error or "")
    assert llm.outputs is None


def test_calls_outside_a_run_pass_through_unrecorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion({"role": "assistant", "content": "hi"})))
    c = client(server)
    out = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}])
    assert out.choices[0].message.content == "hi"
    assert sdk.flush(5) and sink.spans == []


def test_instrument_twice_records_each_call_once(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion({"role": "assistant", "content": "hi"})))
    c = instrument(client(server))
    with sdk.run(agent=AGENT, input="q"):
        c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}])
    assert len(of_kind(trace_spans(sink), SpanKind.LLM)) == 1


RESPONSE = {
    "id": "resp_1", "object": "response", "created_at": 1, "model": MODEL, "status": "completed",
    "output": [{"type": "function_call", "id": "fc_1", "call_id": "call_7", "name": "get_weather",
                "arguments": '{"city": "Oslo"}', "status": "completed"}],
    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
    "usage": {"input_tokens": 30, "output_tokens": 9, "total_tokens": 39,
              "input_tokens_details": {"cached_tokens": 4},
              "output_tokens_details": {"reasoning_tokens": 2}},
}  # fmt: skip
RESP_TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather",
               "parameters": {"type": "object"}}]  # fmt: skip


def test_responses_api_maps_items_to_chat_messages(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(RESPONSE))
    c = client(server)
    items = [{"role": "user", "content": [{"type": "input_text", "text": "Weather?"}]},
             {"type": "function_call", "call_id": "call_0", "name": "get_weather",
              "arguments": '{"city": "Rome"}'},
             {"type": "function_call_output", "call_id": "call_0", "output": "rainy"}]  # fmt: skip
    with sdk.run(agent=AGENT, input="q"):
        resp = c.responses.create(model=MODEL, instructions="Be brief.", input=items,
                                  tools=RESP_TOOLS, max_output_tokens=100)  # fmt: skip
    assert resp.output[0].call_id == "call_7"
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.inputs["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_0", "name": "get_weather", "arguments": {"city": "Rome"}}]},
        {"role": "tool", "tool_call_id": "call_0", "content": "rainy"},
    ]  # fmt: skip
    assert llm.inputs["tools"] == [{"name": "get_weather", "description": "Weather",
                                    "input_schema": {"type": "object"}}]  # fmt: skip
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "call_7", "name": "get_weather", "arguments": {"city": "Oslo"}}]  # fmt: skip
    assert llm.usage == TokenUsage(30, 9, cache_read_tokens=4, reasoning_tokens=2)
    assert llm.attributes["llm.params"] == {"model": MODEL, "max_output_tokens": 100}


def test_responses_stream_records_the_completed_response(sink: Any, server: FakeServer) -> None:
    text_resp = {**RESPONSE, "output": [{"type": "message", "id": "m1", "role": "assistant",
                 "status": "completed", "content": [{"type": "output_text", "text": "Sunny.",
                                                     "annotations": []}]}]}  # fmt: skip
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0,
                              "response": {**RESPONSE, "status": "in_progress", "output": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "sequence_number": 1,
         "item_id": "m1", "output_index": 0, "content_index": 0, "delta": "Sunny.", "logprobs": []}),
        ("response.completed", {"type": "response.completed", "sequence_number": 2,
                                "response": text_resp}),
    ]  # fmt: skip
    server.replies.append(Reply(events=events))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        n = sum(1 for _ in c.responses.create(model=MODEL, input="Weather?", stream=True))
    assert n == 3
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.inputs["messages"] == [{"role": "user", "content": "Weather?"}]
    assert llm.outputs["message"] == {"role": "assistant", "content": "Sunny."}
    assert llm.usage is not None and llm.usage.input_tokens == 30


def test_async_client_streams_are_recorded(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(completion({"role": "assistant", "content": "hi"})),
                       Reply(events=STREAM_TEXT)]  # fmt: skip
    c = instrument(openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0))

    async def main() -> str:
        async with sdk.run(agent=AGENT, input="q"):
            await c.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "q"}]
            )
            stream = await c.chat.completions.create(model=MODEL, messages=[], stream=True)
            return "".join([ch.choices[0].delta.content or "" async for ch in stream if ch.choices])

    assert asyncio.run(main()) == "It is sunny"
    plain_llm, streamed = of_kind(trace_spans(sink), SpanKind.LLM)
    assert plain_llm.outputs["message"]["content"] == "hi"
    assert streamed.outputs["message"]["content"] == "It is sunny"


def test_policy_denial_stops_a_tool_the_model_asked_for(guarded: Any, server: FakeServer) -> None:
    sink, guard = guarded
    server.replies.append(Reply(completion({**TOOL_CALL, "tool_calls": [{
        "id": "call_x", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Atlantis"}'}}]}, "tool_calls")))  # fmt: skip
    c = client(server)
    ran: list[str] = []
    with sdk.run(agent=AGENT, input="q"):
        out = c.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "q"}])
        call = out.choices[0].message.tool_calls[0]
        args = __import__("json").loads(call.function.arguments)
        with pytest.raises(PolicyDenied):
            guarded_call(call.function.name, args, lambda: ran.append("ran"))
    assert ran == [] and guard.checked == [("get_weather", {"city": "Atlantis"})]
    spans = trace_spans(sink)
    (tool,) = of_kind(spans, SpanKind.TOOL)
    (llm,) = of_kind(spans, SpanKind.LLM)
    assert tool.attributes["tool.denied"] is True and tool.status is SpanStatus.ERROR
    assert tool.attributes["tool.call_id"] == "call_x"
    assert [lk.span_id for lk in tool.links] == [llm.span_id]
