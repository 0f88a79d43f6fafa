"""Anthropic SDK helpers: ``messages.stream`` (sync and async; drained by iteration,
``text_stream``, ``until_done`` or ``get_final_message``; left early; failing) and
``messages.parse``, recorded as one llm span each; the client talks to a scripted server on
127.0.0.1."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from integ_support import AGENT, FakeServer, Reply, of_kind, server, sink, trace_spans
from pydantic import BaseModel
from test_anthropic import MODEL, STREAM, TOOLS, ev, message

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk

anthropic = pytest.importorskip("anthropic")
from agentdeck.integrations.anthropic import instrument  # noqa: E402

__all__ = ["server", "sink"]

Q = [{"role": "user", "content": "Weather in Bergen?"}]
TOOL_CALL = {"id": "toolu_2", "name": "get_weather", "arguments": {"city": "Bergen"}}


class Weather(BaseModel):
    city: str
    temp: int


def client(server: FakeServer) -> Any:
    return instrument(anthropic.Anthropic(base_url=server.url, api_key="t", max_retries=0))


def aclient(server: FakeServer) -> Any:
    return instrument(anthropic.AsyncAnthropic(base_url=server.url, api_key="t", max_retries=0))


def only_llm(sink: Any) -> Span:
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    return llm


def assert_whole_stream(llm: Span) -> None:
    assert llm.outputs["message"] == {"role": "assistant", "content": "Checking now.",
                                      "tool_calls": [TOOL_CALL]}  # fmt: skip
    assert llm.usage == TokenUsage(40, 22)
    assert llm.attributes["llm.finish_reason"] == "tool_use"
    assert llm.attributes["llm.response_id"] == "msg_1"
    assert llm.attributes["llm.stream"] is True and llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.helper"] == "stream"
    assert llm.status is SpanStatus.OK


def test_stream_helper_iterated_records_text_tool_use_usage(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q") as run,
        c.messages.stream(
            model=MODEL, max_tokens=64, system="Be brief.", messages=Q, tools=TOOLS
        ) as stream,
    ):
        kinds = [event.type for event in stream]
    assert "text" in kinds and kinds[-1] == "message_stop"  # the helper's own events
    assert server.requests[0]["stream"] is True
    llm = only_llm(sink)
    assert llm.parent_id == run.span_id
    assert llm.inputs["messages"] == [{"role": "system", "content": "Be brief."}, *Q]
    assert llm.inputs["tools"] == TOOLS
    assert llm.attributes["llm.params"] == {"model": MODEL, "max_tokens": 64}
    assert_whole_stream(llm)


def test_stream_helper_drained_by_text_stream_until_done_or_final_message(
    sink: Any, server: FakeServer
) -> None:
    server.replies += [Reply(events=STREAM), Reply(events=STREAM), Reply(events=STREAM)]
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
            text = "".join(stream.text_stream)
        with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
            assert stream.until_done() is None
        with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
            final = stream.get_final_message()
    assert text == "Checking now."
    assert final.stop_reason == "tool_use" and final.content[1].input == {"city": "Bergen"}
    spans = of_kind(trace_spans(sink), SpanKind.LLM)
    assert len(spans) == 3
    for llm in spans:
        assert_whole_stream(llm)


def test_stream_helper_left_early_records_partial_text(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
            for text in stream.text_stream:
                assert text == "Checking"
                break
        assert sdk.flush(5)
        assert len(of_kind(sink.spans, SpanKind.LLM)) == 1  # ended when the block was left
    llm = only_llm(sink)
    assert llm.outputs["message"] == {"role": "assistant", "content": "Checking"}
    assert llm.usage == TokenUsage(40, 1)  # what message_start reported
    assert llm.attributes["llm.stream_complete"] is False
    assert llm.status is SpanStatus.OK


def test_stream_helper_error_event_mid_stream_is_recorded(sink: Any, server: FakeServer) -> None:
    events = [*STREAM[:3], ("error", {"type": "error",
                                      "error": {"type": "overloaded_error", "message": "Overloaded"}})]  # fmt: skip
    server.replies.append(Reply(events=events))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        pytest.raises(anthropic.APIError, match="Overloaded"),
        c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream,
    ):
        stream.get_final_text()
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "Overloaded" in (llm.error or "")
    assert llm.outputs["message"]["content"] == "Checking"
    assert llm.attributes["llm.stream_complete"] is False


def test_stream_helper_request_error_is_recorded(sink: Any, server: FakeServer) -> None:
    body = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    server.replies.append(Reply(body, status=400))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        pytest.raises(anthropic.BadRequestError),
        c.messages.stream(model=MODEL, max_tokens=64, messages=Q),
    ):
        pass
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "BadRequestError" in (llm.error or "")


def test_async_stream_helper_whole_early_and_final_text(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=STREAM), Reply(events=STREAM), Reply(events=STREAM)]
    c = aclient(server)

    async def main() -> tuple[list[str], str]:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
                kinds = [event.type async for event in stream]
            async with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
                async for event in stream:
                    if event.type == "text":
                        break
            async with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
                text = await stream.get_final_text()
        return kinds, text

    kinds, text = asyncio.run(main())
    assert kinds[-1] == "message_stop" and text == "Checking now."
    whole, early, final = of_kind(trace_spans(sink), SpanKind.LLM)
    assert_whole_stream(whole)
    assert_whole_stream(final)
    assert early.outputs["message"] == {"role": "assistant", "content": "Checking"}
    assert early.attributes["llm.stream_complete"] is False and early.status is SpanStatus.OK


def test_async_stream_helper_text_stream_and_error(sink: Any, server: FakeServer) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    server.replies += [Reply(events=STREAM), Reply(body, status=529)]
    c = aclient(server)

    async def main() -> str:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
                text = "".join([t async for t in stream.text_stream])
            with pytest.raises(anthropic.APIStatusError):
                async with c.messages.stream(model=MODEL, max_tokens=64, messages=Q):
                    pass
        return text

    assert asyncio.run(main()) == "Checking now."
    ok, failed = of_kind(trace_spans(sink), SpanKind.LLM)
    assert_whole_stream(ok)
    assert failed.status is SpanStatus.ERROR and failed.outputs is None


def test_parse_records_the_parsed_output(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(message([{"type": "text", "text": '{"city": "Oslo", "temp": 7}'}])))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        out = c.messages.parse(model=MODEL, max_tokens=64, messages=Q, output_format=Weather)
    assert out.parsed_output == Weather(city="Oslo", temp=7)
    assert server.requests[0]["output_config"]["format"]["type"] == "json_schema"
    llm = only_llm(sink)
    assert llm.outputs["message"] == {"role": "assistant", "content": '{"city": "Oslo", "temp": 7}',
                                      "parsed": {"city": "Oslo", "temp": 7}}  # fmt: skip
    assert llm.attributes["llm.helper"] == "parse"
    fmt = llm.attributes["llm.params"]["output_format"]
    assert fmt["name"] == "Weather" and fmt["schema"]["required"] == ["city", "temp"]
    assert llm.usage == TokenUsage(45, 15, cache_read_tokens=5)  # input counts cached tokens


def test_structured_stream_and_beta_messages_are_recorded(sink: Any, server: FakeServer) -> None:
    parts = ['{"city": "Oslo", ', '"temp": 7}']
    events = [ev("message_start", message={**message([]), "stop_reason": None,
                                           "usage": {"input_tokens": 9, "output_tokens": 1}}),
              ev("content_block_start", index=0, content_block={"type": "text", "text": ""})]  # fmt: skip
    events += [ev("content_block_delta", index=0, delta={"type": "text_delta", "text": p})
               for p in parts]  # fmt: skip
    events += [ev("content_block_stop", index=0),
               ev("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None},
                  usage={"output_tokens": 6}),
               ev("message_stop")]  # fmt: skip
    server.replies += [Reply(events=events), Reply(events=STREAM),
                       Reply(message([{"type": "text", "text": "hi"}]))]  # fmt: skip
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.messages.stream(model=MODEL, max_tokens=64, messages=Q,
                               output_format=Weather) as stream:  # fmt: skip
            parsed = stream.get_final_message().parsed_output
        with c.beta.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
            stream.until_done()
        c.beta.messages.create(model=MODEL, max_tokens=8, messages=Q)
    assert parsed == Weather(city="Oslo", temp=7)
    structured, beta_stream, beta_create = of_kind(trace_spans(sink), SpanKind.LLM)
    assert structured.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert structured.usage == TokenUsage(9, 6)
    assert_whole_stream(beta_stream)
    assert beta_create.outputs["message"] == {"role": "assistant", "content": "hi"}


def test_stream_helper_outside_a_run_passes_through(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM))
    c = client(server)
    with c.messages.stream(model=MODEL, max_tokens=64, messages=Q) as stream:
        assert type(stream).__name__ == "MessageStream"
        assert stream.get_final_text() == "Checking now."
    assert sdk.flush(5) and sink.spans == []
