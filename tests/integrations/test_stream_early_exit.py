"""Early exits from every stream wrapper (raw ``stream=True`` streams and the ``.stream()``
helpers; sync and async; OpenAI and Anthropic) end the llm span exactly once, with what was seen.

A raw stream ends when the caller breaks out of its loop (it cannot be read again); a helper
stream ends when its ``with`` block is left (inside the block the caller may still drain it with
``get_final_...()``). Each test checks that the span is ended at that point, before the run is
left, not later when a finaliser or the event loop gets round to it. The clients talk to a
scripted server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anthropic
import openai
import pytest
from integ_support import AGENT, FakeServer, Reply, of_kind, server, sink, trace_spans
from test_anthropic import STREAM as A_STREAM
from test_openai import STREAM_TEXT as O_STREAM

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus
from agentdeck.integrations import anthropic as a_integ
from agentdeck.integrations import openai as o_integ
from agentdeck.tracing.sdk import api as sdk

__all__ = ["server", "sink"]

Q = [{"role": "user", "content": "Weather in Oslo?"}]
O_MODEL = "gpt-4o-mini-2024-07-18"
A_MODEL = "claude-test-1"


def ended_llm_spans(sink: sdk.InMemorySink) -> list[Span]:
    """The llm spans delivered so far (a span is delivered once it has ended)."""
    assert sdk.flush(5)
    return of_kind(sink.spans, SpanKind.LLM)


def assert_partial(sink: sdk.InMemorySink, content: str) -> None:
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.outputs["message"]["content"] == content
    assert llm.attributes["llm.stream_complete"] is False
    assert llm.status is SpanStatus.OK and llm.error is None


def o_client(server: FakeServer) -> Any:
    c = openai.OpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0)
    return o_integ.instrument(c)


def o_aclient(server: FakeServer) -> Any:
    c = openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0)
    return o_integ.instrument(c)


def a_client(server: FakeServer) -> Any:
    return a_integ.instrument(anthropic.Anthropic(base_url=server.url, api_key="t", max_retries=0))


def a_aclient(server: FakeServer) -> Any:
    c = anthropic.AsyncAnthropic(base_url=server.url, api_key="t", max_retries=0)
    return a_integ.instrument(c)


# -- raw streams (``stream=True``): a break ends the span --------------------------------------


def test_openai_raw_stream_break_ends_the_span(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.chat.completions.create(model=O_MODEL, messages=Q, stream=True)
        for ch in stream:
            if ch.choices[0].delta.content == "is ":
                break
        assert len(ended_llm_spans(sink)) == 1  # ended by the break, the stream still referenced
        stream.close()  # closing afterwards does not end it a second time
    assert_partial(sink, "It is ")


def test_openai_async_raw_stream_break_ends_the_span(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_aclient(server)

    async def main() -> int:
        async with sdk.run(agent=AGENT, input="q"):
            stream = await c.chat.completions.create(model=O_MODEL, messages=Q, stream=True)
            async for ch in stream:
                if ch.choices[0].delta.content == "is ":
                    break
            ended = len(ended_llm_spans(sink))  # no await in between: ended by the break itself
            await stream.close()
            return ended

    assert asyncio.run(main()) == 1
    assert_partial(sink, "It is ")


def test_anthropic_raw_stream_break_ends_the_span(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=A_STREAM))
    c = a_client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.messages.create(model=A_MODEL, max_tokens=64, stream=True, messages=Q)
        for e in stream:
            if e.type == "content_block_delta":
                break
        assert len(ended_llm_spans(sink)) == 1
    assert_partial(sink, "Checking")


def test_anthropic_async_raw_stream_break_ends_the_span(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=A_STREAM))
    c = a_aclient(server)

    async def main() -> int:
        async with sdk.run(agent=AGENT, input="q"):
            stream = await c.messages.create(model=A_MODEL, max_tokens=64, stream=True, messages=Q)
            async for e in stream:
                if e.type == "content_block_delta":
                    break
            return len(ended_llm_spans(sink))

    assert asyncio.run(main()) == 1
    assert_partial(sink, "Checking")


def test_raw_stream_error_in_the_callers_loop_ends_the_span(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.chat.completions.create(model=O_MODEL, messages=Q, stream=True)
        with pytest.raises(KeyError):
            for _ in stream:
                raise KeyError("the caller's own error")
        assert len(ended_llm_spans(sink)) == 1
    assert_partial(sink, "It ")  # the caller's error is not the stream's


# -- helper streams (``.stream()`` context managers): leaving the block ends the span ----------


def test_openai_helper_stream_break_ends_the_span_with_its_block(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.chat.completions.stream(model=O_MODEL, messages=Q) as s:
            for event in s:
                if event.type == "content.delta" and event.delta == "is ":
                    break
            assert ended_llm_spans(sink) == []  # inside the block it may still be drained
        assert len(ended_llm_spans(sink)) == 1
    assert_partial(sink, "It is ")


def test_openai_async_helper_stream_break_ends_the_span_with_its_block(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_aclient(server)

    async def main() -> int:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.chat.completions.stream(model=O_MODEL, messages=Q) as s:
                async for event in s:
                    if event.type == "content.delta" and event.delta == "is ":
                        break
            return len(ended_llm_spans(sink))

    assert asyncio.run(main()) == 1
    assert_partial(sink, "It is ")


def test_anthropic_helper_stream_break_ends_the_span_with_its_block(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=A_STREAM))
    c = a_client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.messages.stream(model=A_MODEL, max_tokens=64, messages=Q) as s:
            for event in s:
                if event.type == "text":
                    break
        assert len(ended_llm_spans(sink)) == 1
    assert_partial(sink, "Checking")


def test_anthropic_async_helper_text_stream_break_ends_the_span_with_its_block(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=A_STREAM))
    c = a_aclient(server)

    async def main() -> int:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.messages.stream(model=A_MODEL, max_tokens=64, messages=Q) as s:
                async for text in s.text_stream:
                    assert text == "Checking"
                    break
            return len(ended_llm_spans(sink))

    assert asyncio.run(main()) == 1
    assert_partial(sink, "Checking")


def test_proxies_are_transparent_to_isinstance_and_attributes(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=O_STREAM))
    c = o_client(server)
    with sdk.run(agent=AGENT, input="q"):
        stream = c.chat.completions.create(model=O_MODEL, messages=Q, stream=True)
        assert isinstance(stream, openai.Stream)
        assert stream.response.status_code == 200
        assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == (
            "It is sunny"
        )
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    assert llm.attributes["llm.stream_complete"] is True
