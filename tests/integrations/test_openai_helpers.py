"""OpenAI SDK helpers: ``chat.completions.stream`` / ``.parse`` (and their ``beta`` twins),
``responses.stream`` / ``.parse``, sync and async, recorded as one llm span each; early exits,
errors and telemetry failures end the span exactly once. The client talks to a scripted server
on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from integ_support import AGENT, FakeServer, Reply, of_kind, server, sink, trace_spans
from pydantic import BaseModel
from test_openai import MODEL, RESPONSE, STREAM_CALL, STREAM_TEXT, TOOLS, chunk, completion

from agentdeck.core.trace.model import Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder

openai = pytest.importorskip("openai")
from agentdeck.integrations import openai as integ  # noqa: E402
from agentdeck.integrations.openai import instrument  # noqa: E402

__all__ = ["server", "sink"]

Q = [{"role": "user", "content": "Weather in Oslo?"}]


class Weather(BaseModel):
    city: str
    temp: int


WEATHER_JSON = '{"city": "Oslo", "temp": 7}'
STREAM_JSON = [(None, chunk({"role": "assistant", "content": part}))
               for part in ('{"city": ', '"Oslo", ', '"temp": 7}')]  # fmt: skip
STREAM_JSON += [(None, chunk({}, finish="stop")),
                (None, chunk(None, usage={"prompt_tokens": 11, "completion_tokens": 5,
                                          "total_tokens": 16})),
                (None, "[DONE]")]  # fmt: skip


def client(server: FakeServer) -> Any:
    return instrument(openai.OpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0))


def aclient(server: FakeServer) -> Any:
    return instrument(openai.AsyncOpenAI(base_url=server.url + "/v1", api_key="t", max_retries=0))


def only_llm(sink: Any) -> Span:
    """The one llm span recorded (a helper must not also record its inner ``create``)."""
    (llm,) = of_kind(trace_spans(sink), SpanKind.LLM)
    return llm


# -- chat.completions.stream ----------------------------------------------------------------


def test_chat_stream_helper_records_tool_calls_usage_and_finish(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_CALL))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q") as run,
        c.chat.completions.stream(
            model=MODEL,
            messages=Q,
            tools=TOOLS,
            temperature=0.1,
            stream_options={"include_usage": True},
        ) as stream,  # fmt: skip
    ):
        kinds = [event.type for event in stream]
    assert kinds.count("chunk") == 5 and "tool_calls.function.arguments.done" in kinds
    assert server.requests[0]["stream"] is True  # the helper sent one streamed request
    llm = only_llm(sink)
    assert llm.parent_id == run.span_id
    assert llm.inputs["messages"] == Q
    assert llm.inputs["tools"][0]["name"] == "get_weather"
    assert llm.outputs["message"]["tool_calls"] == [
        {"id": "call_9", "name": "get_weather", "arguments": {"city": "Bergen"}}]  # fmt: skip
    assert llm.usage == TokenUsage(20, 7)
    assert llm.attributes["llm.finish_reason"] == "tool_calls"
    assert llm.attributes["llm.response_id"] == "chatcmpl-s"
    assert llm.attributes["llm.params"] == {
        "model": MODEL, "temperature": 0.1, "stream_options": {"include_usage": True}}  # fmt: skip
    assert llm.attributes["llm.stream"] is True and llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.helper"] == "stream"
    assert llm.status is SpanStatus.OK


def test_chat_stream_helper_left_early_records_what_was_seen(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.chat.completions.stream(model=MODEL, messages=Q) as stream:
            deltas = []
            for event in stream:
                if event.type == "content.delta":
                    deltas.append(event.delta)
                    if len(deltas) == 2:
                        break
        assert sdk.flush(5)
        assert len(of_kind(sink.spans, SpanKind.LLM)) == 1  # ended when the block was left
    assert deltas == ["It ", "is "]
    llm = only_llm(sink)
    assert llm.outputs["message"] == {"role": "assistant", "content": "It is "}
    assert llm.attributes["llm.stream_complete"] is False
    assert llm.status is SpanStatus.OK and llm.error is None


def test_chat_stream_helper_break_then_final_completion_is_one_complete_span(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"), c.chat.completions.stream(model=MODEL, messages=Q) as s:
        for event in s:
            if event.type == "content.delta":
                break  # a break alone does not end a helper stream
        final = s.get_final_completion()
    assert final.choices[0].message.content == "It is sunny"
    llm = only_llm(sink)
    assert llm.outputs["message"]["content"] == "It is sunny"
    assert llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.finish_reason"] == "stop"


def test_chat_stream_helper_structured_output_records_the_parsed_value(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_JSON))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        c.chat.completions.stream(model=MODEL, messages=Q, response_format=Weather) as s,
    ):
        final = s.get_final_completion()  # drains the stream without a for loop
    assert final.choices[0].message.parsed == Weather(city="Oslo", temp=7)
    sent = server.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "Weather"
    llm = only_llm(sink)
    assert llm.outputs["message"]["content"] == WEATHER_JSON
    assert llm.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    fmt = llm.attributes["llm.params"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["name"] == "Weather"
    assert fmt["schema"]["required"] == ["city", "temp"]
    assert llm.usage == TokenUsage(11, 5)
    assert llm.attributes["llm.stream_complete"] is True


def test_chat_stream_helper_error_mid_stream_is_recorded_once(
    sink: Any, server: FakeServer
) -> None:
    events = [*STREAM_TEXT[:2], (None, {"error": {"message": "overloaded", "type": "server"}})]
    server.replies.append(Reply(events=events))
    c = client(server)
    seen: list[str] = []
    with (
        sdk.run(agent=AGENT, input="q"),
        pytest.raises(openai.APIError, match="overloaded"),
        c.chat.completions.stream(model=MODEL, messages=Q) as stream,
    ):
        for event in stream:
            if event.type == "content.delta":
                seen.append(event.delta)
    assert seen == ["It ", "is "]
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "overloaded" in (llm.error or "")
    assert llm.outputs["message"]["content"] == "It is "
    assert llm.attributes["llm.stream_complete"] is False


def test_chat_stream_helper_request_error_is_recorded(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply({"error": {"message": "boom", "type": "server_error"}}, status=500))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        manager = c.chat.completions.stream(model=MODEL, messages=Q)  # nothing sent yet
        assert server.requests == []
        with pytest.raises(openai.InternalServerError), manager:  # the request fails on entry
            pass
    llm = only_llm(sink)
    assert llm.status is SpanStatus.ERROR and "InternalServerError" in (llm.error or "")
    assert llm.outputs is None


def test_chat_stream_helper_caller_error_ends_the_span_without_blaming_the_model(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        pytest.raises(KeyError),
        c.chat.completions.stream(model=MODEL, messages=Q) as stream,
    ):
        next(iter(stream))
        raise KeyError("caller bug")
    llm = only_llm(sink)
    assert llm.status is SpanStatus.OK and llm.attributes["llm.stream_complete"] is False


def test_chat_stream_helper_closed_then_left_records_once(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(events=STREAM_TEXT))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"), c.chat.completions.stream(model=MODEL, messages=Q) as s:
        first = next(s)
        s.close()
        s.close()
    assert first.type == "chunk"
    llm = only_llm(sink)
    assert llm.outputs["message"]["content"] == "It "
    assert llm.attributes["llm.stream_complete"] is False


def test_helpers_outside_a_run_pass_through_untouched(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=STREAM_TEXT),
                       Reply(completion({"role": "assistant", "content": WEATHER_JSON}))]  # fmt: skip
    c = client(server)
    with c.chat.completions.stream(model=MODEL, messages=Q) as stream:
        assert type(stream).__name__ == "ChatCompletionStream"  # the SDK's own object
        text = stream.get_final_completion().choices[0].message.content
    parsed = c.chat.completions.parse(model=MODEL, messages=Q, response_format=Weather)
    assert text == "It is sunny" and parsed.choices[0].message.parsed.temp == 7
    assert sdk.flush(5) and sink.spans == []


def test_async_chat_stream_helper_complete_and_left_early(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=STREAM_JSON), Reply(events=STREAM_TEXT)]
    c = aclient(server)

    async def main() -> tuple[Any, list[str]]:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.chat.completions.stream(
                model=MODEL, messages=Q, response_format=Weather
            ) as stream:
                async for _ in stream:
                    pass
                final = await stream.get_final_completion()
            async with c.chat.completions.stream(model=MODEL, messages=Q) as stream:
                seen = []
                async for event in stream:
                    if event.type == "content.delta":
                        seen.append(event.delta)
                        break
        return final, seen

    final, seen = asyncio.run(main())
    assert final.choices[0].message.parsed == Weather(city="Oslo", temp=7) and seen == ["It "]
    whole, early = of_kind(trace_spans(sink), SpanKind.LLM)
    assert whole.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert whole.attributes["llm.stream_complete"] is True and whole.usage == TokenUsage(11, 5)
    assert early.outputs["message"]["content"] == "It "
    assert early.attributes["llm.stream_complete"] is False
    assert early.status is SpanStatus.OK


def test_async_chat_stream_helper_until_done_and_error(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=STREAM_TEXT),
                       Reply({"error": {"message": "nope", "type": "invalid"}}, status=400)]  # fmt: skip
    c = aclient(server)

    async def main() -> str:
        async with sdk.run(agent=AGENT, input="q"):
            async with c.chat.completions.stream(model=MODEL, messages=Q) as stream:
                done = await stream.until_done()
                assert done is stream  # until_done returns the (wrapped) stream itself
                text = stream.current_completion_snapshot.choices[0].message.content
            with pytest.raises(openai.BadRequestError):
                async with c.chat.completions.stream(model=MODEL, messages=Q):
                    pass
        return str(text)

    assert asyncio.run(main()) == "It is sunny"
    ok, failed = of_kind(trace_spans(sink), SpanKind.LLM)
    assert ok.outputs["message"]["content"] == "It is sunny"
    assert ok.attributes["llm.stream_complete"] is True
    assert failed.status is SpanStatus.ERROR and "BadRequestError" in (failed.error or "")


# -- chat.completions.parse -----------------------------------------------------------------


def test_chat_parse_records_the_parsed_output(sink: Any, server: FakeServer) -> None:
    server.replies.append(Reply(completion({"role": "assistant", "content": WEATHER_JSON})))
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        out = c.chat.completions.parse(model=MODEL, messages=Q, response_format=Weather)
    assert out.choices[0].message.parsed == Weather(city="Oslo", temp=7)
    llm = only_llm(sink)
    assert llm.inputs["messages"] == Q
    assert llm.outputs["message"] == {"role": "assistant", "content": WEATHER_JSON,
                                      "parsed": {"city": "Oslo", "temp": 7}}  # fmt: skip
    assert llm.attributes["llm.helper"] == "parse"
    assert llm.attributes["llm.params"]["response_format"]["name"] == "Weather"
    assert llm.usage == TokenUsage(50, 12, cache_read_tokens=8, reasoning_tokens=3)
    assert "llm.stream" not in llm.attributes


def test_beta_chat_helpers_and_async_parse_are_recorded(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(completion({"role": "assistant", "content": WEATHER_JSON})),
                       Reply(events=STREAM_TEXT),
                       Reply(completion({"role": "assistant", "content": WEATHER_JSON}))]  # fmt: skip
    c = aclient(server)

    async def main() -> None:
        async with sdk.run(agent=AGENT, input="q"):
            await c.beta.chat.completions.parse(model=MODEL, messages=Q, response_format=Weather)
            async with c.beta.chat.completions.stream(model=MODEL, messages=Q) as stream:
                await stream.get_final_completion()
            await c.chat.completions.parse(model=MODEL, messages=Q, response_format=Weather)

    asyncio.run(main())
    beta_parse, beta_stream, parse = of_kind(trace_spans(sink), SpanKind.LLM)
    assert beta_parse.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert beta_stream.outputs["message"]["content"] == "It is sunny"
    assert beta_stream.attributes["llm.helper"] == "stream"
    assert parse.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}


# -- Responses API helpers ------------------------------------------------------------------


def text_message(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip


def response_events(parts: list[str]) -> list[tuple[str | None, Any]]:
    """A Responses stream in wire order: created, the message item, text deltas, completed."""
    text = "".join(parts)
    started = {**RESPONSE, "status": "in_progress", "output": [], "usage": None}
    part = {"type": "output_text", "text": "", "annotations": []}
    rows: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.output_item.added", "output_index": 0,
         "item": {**text_message(""), "status": "in_progress", "content": []}},
        {"type": "response.content_part.added", "item_id": "m1", "output_index": 0,
         "content_index": 0, "part": part},
    ]  # fmt: skip
    rows += [{"type": "response.output_text.delta", "item_id": "m1", "output_index": 0,
              "content_index": 0, "delta": p, "logprobs": []} for p in parts]  # fmt: skip
    rows += [
        {"type": "response.output_text.done", "item_id": "m1", "output_index": 0,
         "content_index": 0, "text": text, "logprobs": []},
        {"type": "response.content_part.done", "item_id": "m1", "output_index": 0,
         "content_index": 0, "part": {**part, "text": text}},
        {"type": "response.output_item.done", "output_index": 0, "item": text_message(text)},
        {"type": "response.completed",
         "response": {**RESPONSE, "output": [text_message(text)]}},
    ]  # fmt: skip
    return [(r["type"], {**r, "sequence_number": i}) for i, r in enumerate(rows)]


def test_responses_stream_helper_records_the_completed_response(
    sink: Any, server: FakeServer
) -> None:
    server.replies.append(Reply(events=response_events(["Sun", "ny."])))
    c = client(server)
    with (
        sdk.run(agent=AGENT, input="q"),
        c.responses.stream(model=MODEL, input="Weather?", instructions="Be brief.") as s,
    ):
        deltas = [e.delta for e in s if e.type == "response.output_text.delta"]
    assert deltas == ["Sun", "ny."]
    llm = only_llm(sink)
    assert llm.inputs["messages"] == [{"role": "system", "content": "Be brief."},
                                      {"role": "user", "content": "Weather?"}]  # fmt: skip
    assert llm.outputs["message"] == {"role": "assistant", "content": "Sunny."}
    assert llm.usage == TokenUsage(30, 9, cache_read_tokens=4, reasoning_tokens=2)
    assert llm.attributes["llm.response_id"] == "resp_1"
    assert llm.attributes["llm.finish_reason"] == "completed"
    assert llm.attributes["llm.stream_complete"] is True
    assert llm.attributes["llm.helper"] == "stream"


def test_responses_stream_helper_structured_and_left_early(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=response_events(['{"city": "Oslo", ', '"temp": 7}'])),
                       Reply(events=response_events(["Sun", "ny."]))]  # fmt: skip
    c = client(server)
    with sdk.run(agent=AGENT, input="q"):
        with c.responses.stream(model=MODEL, input="Weather?", text_format=Weather) as s:
            final = s.get_final_response()
        with c.responses.stream(model=MODEL, input="Weather?") as s:
            for event in s:
                if event.type == "response.output_text.delta":
                    break
    assert final.output_parsed == Weather(city="Oslo", temp=7)
    structured, early = of_kind(trace_spans(sink), SpanKind.LLM)
    assert structured.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert structured.attributes["llm.params"]["text_format"]["name"] == "Weather"
    assert structured.attributes["llm.stream_complete"] is True
    assert early.outputs["message"] == {"role": "assistant", "content": "Sun"}
    assert early.attributes["llm.stream_complete"] is False


def test_responses_parse_and_async_stream_helper(sink: Any, server: FakeServer) -> None:
    structured = {**RESPONSE, "output": [text_message(WEATHER_JSON)]}
    server.replies += [Reply(structured), Reply(events=response_events(["Sun", "ny."]))]
    c = aclient(server)

    async def main() -> Any:
        async with sdk.run(agent=AGENT, input="q"):
            parsed = await c.responses.parse(model=MODEL, input="Weather?", text_format=Weather)
            async with c.responses.stream(model=MODEL, input="Weather?") as stream:
                async for _ in stream:
                    pass
        return parsed

    assert asyncio.run(main()).output_parsed == Weather(city="Oslo", temp=7)
    parse, streamed = of_kind(trace_spans(sink), SpanKind.LLM)
    assert parse.outputs["message"]["parsed"] == {"city": "Oslo", "temp": 7}
    assert parse.attributes["llm.helper"] == "parse"
    assert streamed.outputs["message"]["content"] == "Sunny."
    assert streamed.attributes["llm.stream_complete"] is True


# -- telemetry never reaches the caller -----------------------------------------------------


class TestTelemetryFailures:
    """Mapping failures are counted as telemetry errors; the caller's stream is untouched."""

    @pytest.fixture(autouse=True)
    def no_telemetry_errors(self) -> Any:  # replaces the conftest check: errors are expected here
        before = recorder.internal_errors()
        yield
        assert recorder.internal_errors() > before

    def test_a_failing_mapper_still_ends_the_span_once(
        self, sink: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken(self: Any, *args: Any) -> Any:
            raise RuntimeError("mapper bug")

        monkeypatch.setattr(integ._Chat, "observe", broken)
        monkeypatch.setattr(integ._Chat, "answer", broken)
        server.replies.append(Reply(events=STREAM_TEXT))
        c = client(server)
        with (
            sdk.run(agent=AGENT, input="q"),
            c.chat.completions.stream(model=MODEL, messages=Q) as stream,
        ):
            text = stream.get_final_completion().choices[0].message.content
        assert text == "It is sunny"
        llm = only_llm(sink)
        assert llm.status is SpanStatus.OK and llm.attributes["llm.stream_complete"] is True
        assert llm.outputs is None  # nothing could be read, but the span is there


def test_helper_request_body_is_unchanged_by_recording(sink: Any, server: FakeServer) -> None:
    server.replies += [Reply(events=STREAM_TEXT), Reply(events=STREAM_TEXT)]
    c = client(server)
    with c.chat.completions.stream(model=MODEL, messages=Q, seed=3) as s:
        s.until_done()
    with sdk.run(agent=AGENT, input="q"), c.chat.completions.stream(model=MODEL, messages=Q,
                                                                    seed=3) as s:  # fmt: skip
        s.until_done()
    assert server.requests[0] == server.requests[1]
    assert json.dumps(server.requests[1], sort_keys=True).count('"stream": true') == 1
