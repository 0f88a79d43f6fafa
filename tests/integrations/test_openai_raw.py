"""OpenAI SDK raw responses: ``with_raw_response`` and ``with_streaming_response`` calls go
through the patched methods and are recorded from the answer the SDK parses, while the caller's
own ``parse()``, ``headers`` and ``http_response`` keep working. Sync and async clients talk to
a scripted server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from integ_support import (
    AGENT,
    FakeServer,
    Reply,
    no_warnings,
    of_kind,
    server,
    sink,
    trace_spans,
)
from pydantic import BaseModel
from test_openai import MODEL, RESPONSE, STREAM_CALL, STREAM_TEXT, TOOL_CALL, TOOLS, completion

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk

openai = pytest.importorskip("openai")
from agentdeck.integrations._raw import RecordedRawResponse  # noqa: E402
from agentdeck.integrations.openai import instrument  # noqa: E402

__all__ = ["no_warnings", "server", "sink"]

pytestmark = pytest.mark.usefixtures("no_warnings")  # telemetry must not warn for the caller

Q = [{"role": "user", "content": "Weather in Oslo?"}]
CALL = [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]
HEADERS = {"x-request-id": "req_42", "x-ratelimit-remaining-requests": "99"}


def client(server: FakeServer) -> Any:
    return instrument(openai.OpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0))


def aclient(server: FakeServer) -> Any:
    return instrument(openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0))


def only_llm(sink: Any) -> Span:
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    return llm


def assert_tool_call_answer(llm: Span) -> None:
    """The recorded answer of ``completion(TOOL_CALL, "tool_calls")`` through a raw response."""
    assert llm.status is SpanStatus.OK
    assert llm.inputs["messages"] == Q
    assert llm.outputs["message"]["tool_calls"] == CALL
    assert llm.usage == TokenUsage(50, 12, cache_read_tokens=8, reasoning_tokens=3)
    assert llm.attributes["llm.finish_reason"] == "tool_calls"
    assert llm.attributes["llm.response_id"] == "chatcmpl-1"
    assert llm.attributes["llm.raw_response"] is True
    assert llm.attributes["llm.http_status"] == 200


# -- with_raw_response ----------------------------------------------------------------------


def test_raw_response_is_recorded_and_still_parses_for_the_caller(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(completion(TOOL_CALL, "tool_calls"), headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.chat.completions.with_raw_response.create(model=MODEL, messages=Q, tools=TOOLS)
    # the SDK's own object, used after the span ended: parse, headers, the HTTP response
    assert type(raw).__name__ == "LegacyAPIResponse"
    first = raw.parse()
    assert first.choices[0].message.tool_calls[0].function.arguments == '{"city": "Oslo"}'
    assert raw.parse() is first  # the SDK's cache: one answer object
    assert raw.headers["x-ratelimit-remaining-requests"] == "99"
    assert raw.request_id == "req_42" and first._request_id == "req_42"
    assert raw.http_response.status_code == 200 and raw.http_response.json()["id"] == "chatcmpl-1"
    llm = only_llm(sink)
    assert_tool_call_answer(llm)
    assert "extra_headers" not in llm.attributes["llm.params"]


def test_async_raw_response_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion(TOOL_CALL, "tool_calls"), headers=HEADERS))
    c = aclient(server)

    async def main() -> Any:
        async with c, sdk.run(agent=AGENT, input="q"):
            return await c.chat.completions.with_raw_response.create(
                model=MODEL, messages=Q, tools=TOOLS
            )

    raw = asyncio.run(main())
    assert raw.parse().choices[0].finish_reason == "tool_calls"
    assert raw.headers["x-request-id"] == "req_42"
    assert_tool_call_answer(only_llm(sink))


def test_raw_stream_is_recorded_from_the_stream_the_caller_reads(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_CALL, headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.chat.completions.with_raw_response.create(
            model=MODEL, messages=Q, tools=TOOLS, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        assert raw.headers["x-request-id"] == "req_42"  # before the body is read
        stream = raw.parse()
        assert raw.parse() is stream  # the same stream each time
        chunks = list(stream)
    assert len(chunks) == 5
    llm = only_llm(sink)
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "call_9", "name": "get_weather", "arguments": {"city": "Bergen"}}]  # fmt: skip
    assert llm.usage == TokenUsage(20, 7)
    assert llm.attributes["llm.stream"] is True and llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.http_status"] == 200


def test_async_raw_stream_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = aclient(server)

    async def main() -> str:
        async with c, sdk.run(agent=AGENT, input="q"):
            raw = await c.chat.completions.with_raw_response.create(
                model=MODEL, messages=Q, stream=True
            )
            stream = raw.parse()  # LegacyAPIResponse.parse() is sync, its stream async
            return "".join([ch.choices[0].delta.content or "" async for ch in stream])

    assert asyncio.run(main()) == "It is sunny"
    llm = only_llm(sink)
    assert llm.outputs["message"]["content"] == "It is sunny"
    assert llm.attributes["llm.stream_complete"] is True and llm.attributes["llm.raw_response"]


def test_raw_stream_never_read_is_recorded_when_dropped(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.chat.completions.with_raw_response.create(model=MODEL, messages=Q, stream=True)
        assert raw.status_code == 200
        raw.http_response.close()
        del raw  # never parsed: the request and its status are recorded
    llm = only_llm(sink)
    assert llm.status is SpanStatus.OK and llm.outputs is None
    assert llm.attributes["llm.http_status"] == 200 and llm.attributes["llm.stream"] is True
    assert "llm.stream_complete" not in llm.attributes


def test_raw_response_api_error_reaches_the_caller_and_the_span(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply({"error": {"message": "boom", "type": "server_error"}}, status=500))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"), pytest.raises(openai.InternalServerError):
        c.chat.completions.with_raw_response.create(model=MODEL, messages=Q)
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "InternalServerError" in (llm.error or "")


class Weather(BaseModel):
    city: str
    temp: int


def test_raw_parse_helper_records_the_parsed_output(sink: Any, server: FakeServer) -> None:
    answer = {"role": "assistant", "content": '{"city": "Oslo", "temp": 7}'}
    server.replies.append(Reply(completion(answer)))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.chat.completions.with_raw_response.parse(
            model=MODEL, messages=Q, response_format=Weather
        )
    assert raw.parse().choices[0].message.parsed == Weather(city="Oslo", temp=7)
    llm = only_llm(sink)
    assert llm.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert llm.attributes["llm.helper"] == "parse" and llm.attributes["llm.raw_response"] is True


def test_raw_parse_failure_is_the_span_error_and_the_callers(sink: Any, server: FakeServer) -> None:
    truncated = completion({"role": "assistant", "content": '{"city": "Os'}, finish="length")
    server.replies.append(Reply(truncated))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.chat.completions.with_raw_response.parse(
            model=MODEL, messages=Q, response_format=Weather
        )
    with pytest.raises(openai.LengthFinishReasonError):  # as without with_raw_response
        raw.parse()
    assert raw.status_code == 200
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "LengthFinishReasonError" in (llm.error or "")
    assert llm.attributes["llm.http_status"] == 200


def test_raw_responses_api_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(RESPONSE))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.responses.with_raw_response.create(model=MODEL, input="Weather?")
    assert raw.parse().output[0].call_id == "call_7"
    llm = only_llm(sink)
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "call_7", "name": "get_weather", "arguments": {"city": "Oslo"}}]  # fmt: skip
    assert llm.usage == TokenUsage(30, 9, cache_read_tokens=4, reasoning_tokens=2)
    assert llm.attributes["llm.finish_reason"] == "completed"


def test_raw_response_outside_a_run_is_the_sdks_own(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    raw = c.chat.completions.with_raw_response.create(model=MODEL, messages=Q, stream=True)
    assert not isinstance(raw, RecordedRawResponse)
    assert [ch.choices[0].delta.content for ch in raw.parse() if ch.choices][:3] == [
        "It ", "is ", "sunny"]  # fmt: skip
    assert sdk.flush(5) and sink.spans == []


# -- with_streaming_response ----------------------------------------------------------------


def test_streaming_response_span_ends_when_the_block_is_left(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion(TOOL_CALL, "tool_calls"), headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.chat.completions.with_streaming_response.create(
            model=MODEL, messages=Q, tools=TOOLS
        ) as resp:
            assert resp.headers["x-request-id"] == "req_42" and resp.status_code == 200
            parsed = resp.parse()
            assert resp.parse() is parsed
            assert sdk.flush(5) and of_kind(sink.spans, SpanKind.LLM) == []  # still open
        assert resp.http_response.is_closed
    assert parsed.choices[0].message.tool_calls[0].id == "call_1"
    assert_tool_call_answer(only_llm(sink))


def test_streaming_response_body_read_as_json_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion({"role": "assistant", "content": "hi"})))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        c.chat.completions.with_streaming_response.create(model=MODEL, messages=Q) as resp,
    ):
        body: Any = resp.json()
    assert body["choices"][0]["message"]["content"] == "hi"
    llm = only_llm(sink)
    assert llm.outputs["message"] == {"role": "assistant", "content": "hi"}
    assert llm.attributes["llm.finish_reason"] == "stop"


def test_streaming_response_never_read_records_the_status_only(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(completion({"role": "assistant", "content": "hi"})))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        c.chat.completions.with_streaming_response.create(model=MODEL, messages=Q) as resp,
    ):
        assert resp.status_code == 200
    llm = only_llm(sink)
    assert llm.status is SpanStatus.OK and llm.outputs is None
    assert llm.attributes["llm.http_status"] == 200 and llm.attributes["llm.raw_response"] is True
    assert llm.inputs["messages"] == Q


def test_streaming_response_left_mid_stream_records_what_was_seen(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.chat.completions.with_streaming_response.create(
            model=MODEL, messages=Q, stream=True
        ) as resp:
            stream = resp.parse()
            got = [next(stream).choices[0].delta.content for _ in range(2)]
        assert got == ["It ", "is "]
    llm = only_llm(sink)
    assert llm.outputs["message"]["content"] == "It is "
    assert llm.attributes["llm.stream_complete"] is False


def test_async_streaming_response_stream_as_the_agents_sdk_reads_it(
    sink: Any, server: FakeServer
) -> None:
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0,
                              "response": {**RESPONSE, "status": "in_progress", "output": []}}),
        ("response.completed", {"type": "response.completed", "sequence_number": 1,
                                "response": RESPONSE}),
    ]  # fmt: skip
    server.replies.append(Reply(events=events, headers=HEADERS))
    c = aclient(server)

    async def main() -> list[str]:
        async with c, sdk.run(agent=AGENT, input="q"):
            manager = c.responses.with_streaming_response.create(
                model=MODEL, input="Weather?", stream=True
            )
            resp = await manager.__aenter__()
            try:
                assert resp.request_id == "req_42"
                stream = await resp.parse()
                return [event.type async for event in stream]
            finally:
                await manager.__aexit__(None, None, None)

    assert asyncio.run(main()) == ["response.created", "response.completed"]
    llm = only_llm(sink)
    assert llm.outputs["message"]["tool_calls"][0]["name"] == "get_weather"
    assert llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.http_status"] == 200


def test_async_streaming_response_parsed_in_the_block(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion(TOOL_CALL, "tool_calls")))
    c = aclient(server)

    async def main() -> Any:
        async with (
            c,
            sdk.run(agent=AGENT, input="q"),
            c.chat.completions.with_streaming_response.create(
                model=MODEL, messages=Q, tools=TOOLS
            ) as resp,
        ):
            return await resp.parse()

    assert asyncio.run(main()).choices[0].message.tool_calls[0].id == "call_1"
    assert_tool_call_answer(only_llm(sink))
