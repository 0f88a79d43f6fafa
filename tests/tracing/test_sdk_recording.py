"""The recorder: runs, tools, llm calls, nesting, links, validation, pass-through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sdk_support import BOT, RESOLVER, WEATHER_SCHEMA, by_id, sink, spans_of, start

from agentdeck.core.trace.model import LinkKind, SpanKind, SpanStatus, TokenUsage
from agentdeck.core.trace.model_call import ModelResponse, ToolCall
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.validation import ToolArgumentsInvalid

__all__ = ["sink"]  # the fixture, imported for pytest

calls: list[tuple[str, int]] = []


@sdk.tool
def weather(city: str, days: int = 1) -> dict[str, Any]:
    calls.append((city, days))
    return {"city": city, "temp": 21}


@sdk.tool(name="lookup", input_schema={"type": "object", "required": ["key"]})
def lookup_impl(key: str) -> str:
    return key.upper()


class Boom(Exception):
    pass


@sdk.tool
def explode(x: int) -> None:
    raise Boom(f"bad {x}")


def test_decorators_pass_through_before_init() -> None:
    sdk.shutdown()
    assert weather("Oslo", 2) == {"city": "Oslo", "temp": 21}
    with sdk.run(agent="support-bot@production", input="q") as run:
        assert not run.recording
        assert weather("Oslo") == {"city": "Oslo", "temp": 21}
        with sdk.llm(messages=[]) as call:
            call.record(ModelResponse.assistant("hi"))
    assert sdk.current_span() is None and sdk.flush() == sdk.FlushResult(0, 0, 0, 0, 0, 0, False)


def test_run_is_stamped_with_the_resolved_agent_once(sink: sdk.InMemorySink) -> None:
    RESOLVER.calls.clear()
    with sdk.run(agent="support-bot@production", input={"q": "hi"}) as run:
        assert sdk.current_run() is run
        weather("Oslo", days=2)
        run.set_output("sunny")
    assert RESOLVER.calls == ["support-bot@production"]
    spans = spans_of(sink, run.trace_id)
    rec = sink.run(run.trace_id)
    assert rec is not None
    assert (rec.agent_name, rec.agent_version, rec.agent_digest) == ("support-bot", 3, BOT.digest)
    assert (rec.env, rec.deployment_id, rec.status) == ("production", "dep-7", SpanStatus.OK)
    assert rec.input == {"q": "hi"} and rec.output == "sunny"
    assert rec.root_span_id == run.span_id
    root = by_id(spans)[run.span_id]
    assert root.kind is SpanKind.AGENT and root.parent_id is None
    assert root.attributes["agent.ref"] == "support-bot@production"
    assert root.attributes["agent.version"] == 3


def test_spans_nest_by_context_and_are_ordered_by_seq(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        with sdk.span("retrieve", kind="retrieval", inputs={"q": "x"}) as r:
            assert sdk.current_span() is r
            weather("Oslo")
            r.set_output(["doc"])
        weather("Rome")
    spans = spans_of(sink, run.trace_id)
    assert [s.name for s in spans] == ["support-bot", "retrieve", "weather", "weather"]
    assert [s.seq for s in spans] == [0, 1, 2, 3]
    root, retr, w1, w2 = spans
    assert retr.parent_id == root.span_id and retr.kind is SpanKind.RETRIEVAL
    assert retr.outputs == ["doc"]
    assert w1.parent_id == retr.span_id
    assert w2.parent_id == root.span_id
    assert w1.inputs == {"args": {"city": "Oslo", "days": 1}}
    assert w1.outputs == {"result": {"city": "Oslo", "temp": 21}}
    assert w1.attributes["tool.args_valid"] is True and w1.attributes["tool.version"] == "1.0.0"
    assert w1.end_ns >= w1.start_ns


def test_tool_error_is_recorded_and_reraised_unchanged(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT) as run, pytest.raises(Boom) as info:
        explode(3)
    assert str(info.value) == "bad 3"
    (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert span.status is SpanStatus.ERROR and span.error == "Boom: bad 3"
    assert span.attributes["error.type"] == "Boom" and span.outputs is None


def test_run_records_the_agents_exception_and_lets_it_propagate(sink: sdk.InMemorySink) -> None:
    with pytest.raises(KeyError), sdk.run(agent=BOT) as run:
        raise KeyError("missing")
    assert sdk.flush(5)
    rec = sink.run(run.trace_id)
    assert rec is not None and rec.status is SpanStatus.ERROR and "KeyError" in (rec.error or "")


def test_invalid_args_are_recorded_and_the_tool_still_runs(sink: sdk.InMemorySink) -> None:
    calls.clear()
    with sdk.run(agent=BOT) as run:
        weather(42, days=0)  # type: ignore[arg-type]
    assert calls == [(42, 0)]
    (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert span.attributes["tool.args_valid"] is False
    assert span.attributes["tool.args_errors"] and "city" in span.attributes["tool.args_errors"][0]
    assert span.status is SpanStatus.OK


def test_invalid_args_raise_a_clear_error_when_configured(tmp_path: Path) -> None:
    sink = start(tmp_path, invalid_args="raise")
    try:
        calls.clear()
        with sdk.run(agent=BOT) as run, pytest.raises(ToolArgumentsInvalid) as info:
            weather(42)  # type: ignore[arg-type]
        assert calls == []
        assert "weather" in str(info.value) and "city" in str(info.value)
        (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
        assert span.status is SpanStatus.ERROR and span.attributes["tool.args_valid"] is False
    finally:
        sdk.shutdown()


def test_decorator_schema_applies_when_the_agent_pins_none(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT) as run:
        assert lookup_impl(key="a") == "A"
    (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert span.name == "lookup" and span.attributes["tool.args_valid"] is True


def test_tools_outside_a_run_call_through_unrecorded(sink: sdk.InMemorySink) -> None:
    assert weather("Oslo") == {"city": "Oslo", "temp": 21}
    assert sdk.flush(5)
    assert sink.spans == []


def test_unresolvable_reference_records_the_run_without_raising(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent="ghost@production", input=1) as run:
        weather("Oslo")
    assert sdk.flush(5)
    rec = sink.run(run.trace_id)
    assert rec is not None and rec.agent_name == "ghost" and rec.agent_digest is None
    assert "no such agent" in rec.attributes["agent.resolve_error"]


def test_method_tools_do_not_record_self(sink: sdk.InMemorySink) -> None:
    class Client:
        @sdk.tool
        def weather(self, city: str) -> str:
            return city

    with sdk.run(agent=BOT) as run:
        Client().weather("Oslo")
    (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert span.inputs == {"args": {"city": "Oslo"}} and span.attributes["tool.args_valid"]


def test_llm_records_the_context_window_as_it_was(sink: sdk.InMemorySink) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "weather in Oslo?"}]
    tools = [{"name": "weather", "input_schema": WEATHER_SCHEMA}]
    with sdk.run(agent=BOT) as run:
        with sdk.llm(messages=messages, tools=tools, params={"temperature": 0}) as call:
            resp = ModelResponse.assistant(
                None, [ToolCall("call_1", "weather", {"city": "Oslo"})],
                model="gpt-4o-2024-08-06", usage=TokenUsage(12, 5),
            )  # fmt: skip
            call.record(resp)
        messages.append(resp.message)  # the agent appends right after the call
        weather("Oslo")
        with sdk.llm(messages=messages) as call2:
            call2.record(message={"role": "assistant", "content": "Sunny"})
    llm1, llm2 = spans_of(sink, run.trace_id, SpanKind.LLM)
    (tool_span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert llm1.inputs["messages"] == [{"role": "user", "content": "weather in Oslo?"}]
    assert llm1.inputs["tools"] == tools
    assert llm1.outputs["message"]["tool_calls"][0]["name"] == "weather"
    assert llm1.usage == TokenUsage(12, 5)
    assert llm1.attributes["llm.model"] == "gpt-4o-2024-08-06"  # from the agent spec
    assert llm1.attributes["llm.provider"] == "openai"
    assert llm1.attributes["llm.params"] == {"temperature": 0}
    assert len(llm2.inputs["messages"]) == 2
    # data flow: the tool consumed llm1's tool call; llm2 consumed the tool's result
    assert [(lk.span_id, lk.kind) for lk in tool_span.links] == [(llm1.span_id, LinkKind.DATA)]
    assert tool_span.attributes["tool.call_id"] == "call_1"
    assert [lk.span_id for lk in llm2.links] == [tool_span.span_id]


def test_recorded_model_records_each_completion(sink: sdk.InMemorySink) -> None:
    class Scripted:
        def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]],
                     params: dict[str, Any]) -> ModelResponse:  # fmt: skip
            return ModelResponse.assistant("ok", model="gpt-4o-2024-08-06")

    model = sdk.recorded_model(Scripted(), provider="scripted")
    with sdk.run(agent=BOT) as run:
        assert model.complete([{"role": "user", "content": "x"}], [], {"seed": 1}).content == "ok"
    (span,) = spans_of(sink, run.trace_id, SpanKind.LLM)
    assert span.outputs == {"message": {"role": "assistant", "content": "ok"}}
    assert span.attributes["llm.provider"] == "scripted"
    assert span.attributes["llm.response_model"] == "gpt-4o-2024-08-06"


def test_span_link_records_data_flow(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT) as run:
        with sdk.span("retrieve", kind=SpanKind.RETRIEVAL) as r:
            pass
        with sdk.span("summarise") as s:
            s.link(r)
            s.set_attribute("words", 12)
    _, retr, summ = spans_of(sink, run.trace_id)
    assert [(lk.trace_id, lk.span_id, lk.kind) for lk in summ.links] == [
        (run.trace_id, retr.span_id, LinkKind.DATA)
    ]
    assert summ.attributes["words"] == 12


def test_unserialisable_values_are_recorded_as_repr(sink: sdk.InMemorySink) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    @sdk.tool
    def take(thing: Any) -> Any:
        return {"back": thing, "ids": {3, 1}}

    with sdk.run(agent=BOT) as run:
        take(Opaque())
    (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert span.inputs == {"args": {"thing": "<opaque>"}}
    assert span.outputs == {"result": {"back": "<opaque>", "ids": [1, 3]}}
