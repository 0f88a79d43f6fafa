"""agentdeck -> OTLP: GenAI attributes on the wire, and span -> OTLP -> span round trips."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.trace.model import (
    LinkKind,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)
from agentdeck.tracing.otlp.decode import decode_otlp
from agentdeck.tracing.otlp.map_out import spans_to_otlp
from agentdeck.tracing.otlp.values import from_key_values

T = "4bf92f3577b34da6a3ce929d0e0e4736"
A, L, TL = "00f067aa0ba902b7", "00f067aa0ba902b8", "00f067aa0ba902b9"


def _sample() -> tuple[list[Span], Run]:
    spans = [
        Span(T, A, None, "support-bot", SpanKind.AGENT, 100, 900, 0, SpanStatus.OK,
             inputs={"q": "hi"}, outputs="done",
             attributes={"agent.name": "support-bot", "agent.version": 3, "agent.digest": "sha256:ab"}),
        Span(T, L, A, "chat", SpanKind.LLM, 200, 300, 1,
             inputs={"messages": [{"role": "user", "content": "weather?"}]},
             outputs={"message": {"role": "assistant", "content": None,
                                  "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]}},
             attributes={"llm.provider": "openai", "llm.model": "gpt-4o", "llm.params": {"temperature": 0.2}},
             usage=TokenUsage(10, 5)),
        Span(T, TL, A, "get_weather", SpanKind.TOOL, 310, 400, 2, SpanStatus.ERROR, "boom",
             {"args": {"city": "Paris"}}, {"result": "sunny"},
             {"tool.name": "get_weather", "tool.call_id": "c1"}, links=(SpanLink(T, L),)),
    ]  # fmt: skip
    run = Run(T, "support-bot", 3, "sha256:ab", "production", "dep-1", 100, 900, SpanStatus.OK,
              None, {"q": "hi"}, "done", A, {"team": "cx"})  # fmt: skip
    return spans, run


def _attrs(request: ExportTraceServiceRequest, index: int) -> dict:
    return from_key_values(request.resource_spans[0].scope_spans[0].spans[index].attributes)


def test_writes_genai_conventions() -> None:
    spans, run = _sample()
    request = spans_to_otlp(spans, [run], {"service.name": "svc"})
    agent, llm, tool = (_attrs(request, i) for i in range(3))
    assert agent["gen_ai.operation.name"] == "invoke_agent"
    assert agent["gen_ai.agent.name"] == "support-bot" and agent["gen_ai.agent.version"] == "3"
    assert llm["gen_ai.operation.name"] == "chat"
    assert llm["gen_ai.request.model"] == "gpt-4o" and llm["gen_ai.provider.name"] == "openai"
    assert llm["gen_ai.request.temperature"] == 0.2
    assert (llm["gen_ai.usage.input_tokens"], llm["gen_ai.usage.output_tokens"]) == (10, 5)
    assert json.loads(llm["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "weather?"}]}
    ]
    (out,) = json.loads(llm["gen_ai.output.messages"])
    assert out["finish_reason"] == "tool_call"
    assert out["parts"] == [
        {"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert "agentdeck.inputs" not in llm  # the GenAI form was exact
    assert (
        tool["gen_ai.operation.name"] == "execute_tool"
        and tool["gen_ai.tool.name"] == "get_weather"
    )
    assert tool["gen_ai.tool.call.id"] == "c1"
    assert json.loads(tool["gen_ai.tool.call.arguments"]) == {"city": "Paris"}
    assert json.loads(tool["gen_ai.tool.call.result"]) == "sunny"
    wire = request.resource_spans[0].scope_spans[0].spans
    assert wire[2].status.code == 2 and wire[2].status.message == "boom"
    assert wire[1].parent_span_id.hex() == A and wire[1].kind == 3  # CLIENT
    assert from_key_values(request.resource_spans[0].resource.attributes) == {"service.name": "svc"}


def test_run_is_stamped_on_its_root_span_only() -> None:
    spans, run = _sample()
    request = spans_to_otlp(spans, [run])
    assert _attrs(request, 0)["agentdeck.run.env"] == "production"
    assert not any(k.startswith("agentdeck.run.") for k in _attrs(request, 1))


def test_lossy_message_shape_travels_exactly_as_agentdeck_inputs() -> None:
    odd = {
        "messages": [{"role": "user", "content": [{"type": "image_url", "url": "x"}]}],
        "extra": 1,
    }
    llm = Span(T, L, A, "chat", SpanKind.LLM, 1, 2, inputs=odd)
    request = spans_to_otlp([llm])
    assert "agentdeck.inputs" in _attrs(request, 0)
    assert decode_otlp(request.SerializeToString(), "application/x-protobuf").spans[0].inputs == odd


def test_sample_round_trips_exactly() -> None:
    spans, run = _sample()
    body = spans_to_otlp(spans, [run]).SerializeToString()
    result = decode_otlp(body, "application/x-protobuf")
    assert list(result.spans) == spans
    assert result.runs == (run,)


# --- property: span -> OTLP -> span --------------------------------------------------------

_hex = st.text("0123456789abcdef", min_size=1, max_size=1)
_ids16 = st.text("0123456789abcdef", min_size=16, max_size=16).filter(lambda s: s != "0" * 16)
_ids32 = st.text("0123456789abcdef", min_size=32, max_size=32).filter(lambda s: s != "0" * 32)
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
_json = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
# Free attribute names outside the namespaces the mapping interprets.
_attr_key = st.from_regex(r"\Aapp\.[a-z]{1,8}\Z")
_text_or_none = st.none() | st.text(max_size=12)
_tool_call = st.fixed_dictionaries(
    {
        "id": _text_or_none,
        "name": st.text(max_size=8),
        "arguments": st.dictionaries(st.text(max_size=5), _json, max_size=3),
    }
)
_message = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "content": _text_or_none}),
    st.fixed_dictionaries(
        {
            "role": st.just("assistant"),
            "content": _text_or_none,
            "tool_calls": st.lists(_tool_call, min_size=1, max_size=2),
        }
    ),
    st.fixed_dictionaries(
        {
            "role": st.just("tool"),
            "content": st.text(max_size=10),
            "tool_call_id": st.text(max_size=6),
        }
    ),
    _json,  # anything else must survive too (through agentdeck.inputs)
)


@st.composite
def _spans(draw: st.DrawFn) -> Span:
    kind = draw(st.sampled_from(list(SpanKind)))
    attributes = draw(st.dictionaries(_attr_key, _json, max_size=3))
    inputs, outputs = draw(_json), draw(_json)
    if kind is SpanKind.TOOL:
        attributes["tool.name"] = draw(
            st.text(min_size=1, max_size=8).filter(lambda s: "transfer" not in s)
        )
        if draw(st.booleans()):
            attributes["tool.call_id"] = draw(st.text(max_size=8))
        if draw(st.booleans()):
            inputs = {"args": draw(st.dictionaries(st.text(max_size=5), _json, max_size=3))}
            outputs = {"result": draw(_json)}
    elif kind is SpanKind.LLM:
        attributes.update(
            draw(st.fixed_dictionaries({}, optional={"llm.model": st.text(max_size=8), "llm.provider": st.text(max_size=8),
                                                     "llm.response_model": st.text(max_size=8),
                                                     "llm.params": st.dictionaries(st.sampled_from(["temperature", "stop", "seed", "custom"]), _scalar, max_size=3)}))
        )  # fmt: skip
        if draw(st.booleans()):
            inputs = {"messages": draw(st.lists(_message, max_size=4))}
            outputs = {"message": draw(_message)}
    elif kind is SpanKind.AGENT:
        attributes.update(
            draw(st.fixed_dictionaries({}, optional={"agent.name": st.text(max_size=8), "agent.version": st.integers(1, 10**6),
                                                     "agent.digest": st.text(max_size=8)}))
        )  # fmt: skip
    elif kind is SpanKind.RETRIEVAL and draw(st.booleans()):
        inputs = {"query": draw(st.text(max_size=8))}
        outputs = {"documents": draw(st.lists(_json, max_size=3))}
    status = draw(st.sampled_from(list(SpanStatus)))
    start = draw(st.integers(0, 2**62))
    return Span(
        trace_id=draw(_ids32),
        span_id=draw(_ids16),
        parent_id=draw(st.none() | _ids16),
        name=draw(
            st.text(max_size=12).filter(
                lambda s: "transfer" not in s and "handoff" not in s.lower()
            )
        ),
        kind=kind,
        start_ns=start,
        end_ns=start + draw(st.integers(0, 10**12)),
        seq=draw(st.integers(0, 10**6)),
        status=status,
        error=draw(_text_or_none)
        if status is SpanStatus.ERROR
        else draw(st.none() | st.text(max_size=5)),
        inputs=inputs,
        outputs=outputs,
        attributes=attributes,
        links=tuple(
            draw(
                st.lists(
                    st.builds(SpanLink, _ids32, _ids16, st.sampled_from(list(LinkKind))), max_size=2
                )
            )
        ),
        usage=draw(st.none() | st.builds(TokenUsage, *(st.integers(0, 10**9),) * 4)),
    )


def _normal(span: Span) -> Span:
    """What the wire cannot tell apart: an ERROR span with an empty message has no error."""
    if span.status is SpanStatus.ERROR and span.error == "":
        return Span(**{**{f: getattr(span, f) for f in Span.__slots__}, "error": None})  # type: ignore[attr-defined]
    return span


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_spans())
def test_span_round_trips_through_otlp(span: Span) -> None:
    body = spans_to_otlp([span]).SerializeToString()
    (back,) = decode_otlp(body, "application/x-protobuf").spans
    assert back == _normal(span)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_spans(), st.builds(
    Run, st.just(""), _text_or_none, st.none() | st.integers(1, 1000), _text_or_none, _text_or_none, _text_or_none,
    st.integers(0, 2**62), st.none() | st.integers(0, 2**62), st.sampled_from(list(SpanStatus)), _text_or_none,
    _json, _json, st.none(), st.dictionaries(st.text(max_size=5), _json, max_size=3),
    outcome=st.none() | st.sampled_from(list(Outcome)),
    outcome_score=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    outcome_reason=_text_or_none,
    session_id=st.none() | st.text(min_size=1, max_size=20),
    user_id=st.none() | st.text(min_size=1, max_size=20),
))  # fmt: skip
def test_run_round_trips_through_otlp(span: Span, run: Run) -> None:
    run = Run(**{**{f: getattr(run, f) for f in Run.__slots__}, "trace_id": span.trace_id})  # type: ignore[attr-defined]
    result = decode_otlp(spans_to_otlp([span], [run]).SerializeToString(), "application/x-protobuf")
    assert result.runs == (run,)
