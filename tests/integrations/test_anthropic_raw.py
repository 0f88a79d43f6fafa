"""Anthropic SDK raw responses: ``messages.with_raw_response`` / ``with_streaming_response``
calls are recorded from the answer the SDK parses, and the caller's ``parse()``, ``headers`` and
``http_response`` keep working. Sync and async clients talk to a scripted server on 127.0.0.1."""

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
from test_anthropic import MODEL, STREAM, TOOL_USE, TOOLS, message

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk

anthropic = pytest.importorskip("anthropic")
from agentdeck.integrations.anthropic import instrument  # noqa: E402

__all__ = ["no_warnings", "server", "sink"]

pytestmark = pytest.mark.usefixtures("no_warnings")  # telemetry must not warn for the caller

Q = [{"role": "user", "content": "Weather in Oslo?"}]
HEADERS = {"request-id": "req_7", "anthropic-ratelimit-requests-remaining": "41"}


def client(server: FakeServer) -> Any:
    return instrument(anthropic.Anthropic(base_url=server.url, api_key="t", max_retries=0))


def aclient(server: FakeServer) -> Any:
    return instrument(anthropic.AsyncAnthropic(base_url=server.url, api_key="t", max_retries=0))


def only_llm(sink: Any) -> Span:
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    return llm


def assert_tool_use_answer(llm: Span) -> None:
    """The recorded answer of ``message(TOOL_USE, "tool_use")`` through a raw response."""
    assert llm.status is SpanStatus.OK
    assert llm.inputs["messages"] == Q
    assert llm.outputs["message"] == {
        "role": "assistant", "content": "Let me check.",
        "tool_calls": [{"id": "toolu_1", "name": "get_weather", "arguments": {"city": "Oslo"}}],
    }  # fmt: skip
    assert llm.usage == TokenUsage(45, 15, cache_read_tokens=5)  # input counts cached tokens
    assert llm.attributes["llm.finish_reason"] == "tool_use"
    assert llm.attributes["llm.raw_response"] is True
    assert llm.attributes["llm.http_status"] == 200


def test_raw_response_is_recorded_and_still_parses_for_the_caller(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(message(TOOL_USE, "tool_use"), headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.messages.with_raw_response.create(
            model=MODEL, max_tokens=256, messages=Q, tools=TOOLS
        )
    assert isinstance(raw, anthropic.APIResponse)  # the SDK's own object
    first = raw.parse()
    assert first.content[1].input == {"city": "Oslo"} and raw.parse() is first
    assert raw.headers["anthropic-ratelimit-requests-remaining"] == "41"
    assert raw.request_id == "req_7"
    assert raw.http_response.json()["id"] == "msg_1"
    assert_tool_use_answer(only_llm(sink))


def test_async_raw_response_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(message(TOOL_USE, "tool_use"), headers=HEADERS))
    c = aclient(server)

    async def main() -> tuple[Any, Any, Any]:
        async with c, sdk.run(agent=AGENT, input="q"):
            raw = await c.messages.with_raw_response.create(
                model=MODEL, max_tokens=256, messages=Q, tools=TOOLS
            )
        first = await raw.parse()
        return raw, first, await raw.parse()

    raw, first, again = asyncio.run(main())
    assert isinstance(raw, anthropic.AsyncAPIResponse)
    assert first is again and first.stop_reason == "tool_use"
    assert raw.headers["request-id"] == "req_7"
    assert_tool_use_answer(only_llm(sink))


def assert_streamed_tool_use(llm: Span) -> None:
    assert llm.outputs["message"]["content"] == "Checking now."
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "toolu_2", "name": "get_weather", "arguments": {"city": "Bergen"}}]  # fmt: skip
    assert llm.attributes["llm.stream"] is True and llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.http_status"] == 200


def test_raw_stream_is_recorded_from_the_stream_the_caller_reads(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM, headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        raw = c.messages.with_raw_response.create(
            model=MODEL, max_tokens=256, messages=Q, stream=True
        )
        assert raw.headers["request-id"] == "req_7"
        kinds = [event.type for event in raw.parse()]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert_streamed_tool_use(only_llm(sink))


def test_async_streaming_response_stream_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM, headers=HEADERS))
    c = aclient(server)

    async def main() -> list[str]:
        async with (
            c,
            sdk.run(agent=AGENT, input="q"),
            c.messages.with_streaming_response.create(
                model=MODEL, max_tokens=256, messages=Q, stream=True
            ) as resp,
        ):
            assert resp.headers["request-id"] == "req_7"
            return [event.type async for event in await resp.parse()]

    assert len(asyncio.run(main())) == len(STREAM)
    assert_streamed_tool_use(only_llm(sink))


def test_streaming_response_parsed_in_the_block(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(message(TOOL_USE, "tool_use"), headers=HEADERS))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.messages.with_streaming_response.create(
            model=MODEL, max_tokens=256, messages=Q, tools=TOOLS
        ) as resp:
            parsed = resp.parse()
            assert resp.request_id == "req_7" and resp.parse() is parsed
            assert sdk.flush(5) and of_kind(sink.spans, SpanKind.LLM) == []  # ends on exit
        assert resp.is_closed
    assert parsed.content[0].text == "Let me check."
    assert_tool_use_answer(only_llm(sink))


def test_async_streaming_response_never_read_records_the_status(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(message(TOOL_USE, "tool_use")))
    c = aclient(server)

    async def main() -> int:
        async with (
            c,
            sdk.run(agent=AGENT, input="q"),
            c.messages.with_streaming_response.create(
                model=MODEL, max_tokens=256, messages=Q
            ) as resp,
        ):
            return int(resp.status_code)

    assert asyncio.run(main()) == 200
    llm = only_llm(sink)
    assert llm.status is SpanStatus.OK and llm.outputs is None
    assert llm.attributes["llm.http_status"] == 200 and llm.inputs["messages"] == Q


def test_raw_response_api_error_is_recorded(sink: Any, server: FakeServer) -> None:
    error = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    server.replies.append(Reply(error, status=529))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"), pytest.raises(anthropic.APIStatusError):
        c.messages.with_raw_response.create(model=MODEL, max_tokens=256, messages=Q)
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and llm.outputs is None
