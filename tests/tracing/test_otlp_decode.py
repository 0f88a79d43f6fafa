"""OTLP -> agentdeck, on spans produced by the official OpenTelemetry SDK and encoder."""

from __future__ import annotations

import contextlib
import gzip
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from otel_fixtures import (
    REMOTE_TRACE_ID,
    genai_agent_run,
    openinference_run,
    record,
    remote_child_run,
    to_otlp_json,
)

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import PROVISIONAL, LinkKind, SpanKind, SpanStatus, TokenUsage
from agentdeck.tracing.otlp.decode import (
    DecodeResult,
    OtlpDecodeError,
    UnsupportedMediaType,
    decode_otlp,
    decode_request,
)
from agentdeck.tracing.otlp.values import add_attribute

PROTOBUF = "application/x-protobuf"


def _by_name(result: DecodeResult) -> dict[str, list]:
    out: dict[str, list] = {}
    for span in result.spans:
        out.setdefault(span.name, []).append(span)
    return out


@pytest.fixture(scope="module")
def genai() -> DecodeResult:
    request, _ = record(
        genai_agent_run, {"service.name": "demo", "deployment.environment.name": "staging"}
    )
    return decode_otlp(request.SerializeToString(), PROTOBUF)


@pytest.fixture(scope="module")
def openinference() -> DecodeResult:
    request, _ = record(openinference_run)
    return decode_otlp(request.SerializeToString(), PROTOBUF)


def test_genai_kinds_and_nesting(genai: DecodeResult) -> None:
    spans = _by_name(genai)
    agent = spans["invoke_agent support-bot"][0]
    assert agent.kind is SpanKind.AGENT and agent.parent_id is None
    assert spans["chat gpt-4o"][0].kind is SpanKind.LLM
    assert [s.kind for s in spans["execute_tool get_weather"]] == [SpanKind.TOOL, SpanKind.TOOL]
    assert spans["execute_tool transfer_to_billing"][0].kind is SpanKind.HANDOFF
    assert all(s.parent_id == agent.span_id for s in genai.spans if s is not agent)
    assert {s.trace_id for s in genai.spans} == {agent.trace_id}


def test_genai_agent_attributes_and_run(genai: DecodeResult) -> None:
    agent = _by_name(genai)["invoke_agent support-bot"][0]
    assert agent.attributes["agent.name"] == "support-bot"
    assert agent.attributes["agent.version"] == 7
    (run,) = genai.runs
    assert (run.agent_name, run.agent_version, run.env) == ("support-bot", 7, "staging")
    assert run.root_span_id == agent.span_id and run.trace_id == agent.trace_id
    assert run.attributes["service.name"] == "demo"
    assert genai.traces_without_run == ()


def test_genai_llm_messages_params_usage(genai: DecodeResult) -> None:
    llm = _by_name(genai)["chat gpt-4o"][0]
    assert llm.attributes["llm.provider"] == "openai"
    assert llm.attributes["llm.model"] == "gpt-4o"
    assert llm.attributes["llm.response_model"] == "gpt-4o-2024-08-06"
    assert llm.attributes["llm.params"] == {"temperature": 0.2, "max_tokens": 256}
    assert llm.inputs["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris?"},
    ]
    assert llm.inputs["tools"] == [{"type": "function", "name": "get_weather"}]
    assert llm.outputs == {
        "message": {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}],
        }
    }
    assert llm.usage == TokenUsage(input_tokens=120, output_tokens=30, cache_read_tokens=64)
    assert not any(k.startswith("gen_ai.input") for k in llm.attributes)


def test_genai_tools_args_results_and_repeated_call_ids(genai: DecodeResult) -> None:
    first, second = _by_name(genai)["execute_tool get_weather"]
    assert first.attributes["tool.name"] == "get_weather" and first.tool_name == "get_weather"
    assert first.attributes["tool.call_id"] == second.attributes["tool.call_id"] == "call_1"
    assert first.inputs == {"args": {"city": "Paris"}}
    assert [first.outputs, second.outputs] == [
        {"result": {"forecast": "sunny"}},
        {"result": {"forecast": "rainy"}},
    ]
    assert first.seq < second.seq


def test_handoff_target_and_source(genai: DecodeResult) -> None:
    handoff = _by_name(genai)["execute_tool transfer_to_billing"][0]
    assert handoff.attributes["handoff.to"] == "billing"
    assert handoff.attributes["handoff.from"] == "support-bot"


def test_status_unset_error_and_exception_event_on_non_error_span(genai: DecodeResult) -> None:
    spans = _by_name(genai)
    agent = spans["invoke_agent support-bot"][0]
    assert agent.status is SpanStatus.UNSET and agent.error is None
    assert agent.attributes["otel.events"][0]["attributes"]["exception.type"] == "GraphInterrupt"
    failing = spans["execute_tool lookup_invoice"][0]
    assert failing.status is SpanStatus.ERROR and failing.error == "invoice service down"


def test_seq_follows_start_time_without_agentdeck_seq(genai: DecodeResult) -> None:
    ordered = sorted(genai.spans, key=lambda s: s.seq)
    assert [s.seq for s in ordered] == list(range(len(ordered)))
    assert [s.start_ns for s in ordered] == sorted(s.start_ns for s in genai.spans)
    assert ordered[0].name == "invoke_agent support-bot"


def test_openinference_kinds(openinference: DecodeResult) -> None:
    spans = _by_name(openinference)
    assert spans["Agent"][0].kind is SpanKind.AGENT  # CHAIN carrying agent.name
    assert spans["ChatOpenAI"][0].kind is SpanKind.LLM
    assert spans["search"][0].kind is SpanKind.TOOL
    assert spans["handoff to writer"][0].kind is SpanKind.HANDOFF
    assert spans["handoff to writer"][0].attributes["handoff.to"] == "writer"
    assert spans["guardrail"][0].kind is SpanKind.GUARDRAIL
    assert spans["evaluator"][0].kind is SpanKind.EVAL
    assert spans["retriever"][0].kind is SpanKind.RETRIEVAL
    assert all(s.status is SpanStatus.OK for s in spans["search"])


def test_openinference_llm_flattened_messages(openinference: DecodeResult) -> None:
    llm = _by_name(openinference)["ChatOpenAI"][0]
    assert llm.attributes["llm.model"] == "gpt-4o-mini"
    assert llm.attributes["llm.params"] == {"temperature": 0}
    assert llm.inputs["messages"] == [
        {"role": "system", "content": "You research."},
        {"role": "user", "content": "capital of France?"},
    ]
    assert llm.inputs["tools"] == [{"type": "function", "function": {"name": "search"}}]
    call = llm.outputs["message"]["tool_calls"][0]
    assert call == {"id": "t1", "name": "search", "arguments": {"q": "capital of France"}}
    assert llm.usage == TokenUsage(input_tokens=50, output_tokens=8)
    assert not any(k.startswith("llm.input_messages") for k in llm.attributes)


def test_openinference_tool_and_agent_io(openinference: DecodeResult) -> None:
    spans = _by_name(openinference)
    tool = spans["search"][0]
    assert tool.attributes["tool.name"] == "search" and tool.attributes["tool.call_id"] == "t1"
    assert tool.inputs == {"args": {"q": "capital of France"}}
    assert tool.outputs == {"result": "Paris is the capital of France."}
    agent = spans["Agent"][0]
    assert agent.inputs == {"question": "capital of France?"} and agent.outputs == "Paris"
    (run,) = openinference.runs
    assert run.agent_name == "researcher" and run.status is SpanStatus.OK
    assert run.input == {"question": "capital of France?"}


def test_json_and_gzip_bodies_decode_like_protobuf() -> None:
    request, _ = record(genai_agent_run)
    from_proto = decode_otlp(request.SerializeToString(), PROTOBUF)
    from_json = decode_otlp(to_otlp_json(request), "application/json; charset=utf-8")
    gzipped = decode_otlp(gzip.compress(request.SerializeToString()), PROTOBUF, "gzip")
    assert from_json.spans == from_proto.spans == gzipped.spans
    assert from_json.runs == from_proto.runs


def test_decode_request_takes_parsed_message() -> None:
    request, sdk_spans = record(openinference_run)
    result = decode_request(request)
    assert len(result.spans) == len(sdk_spans)


def _without(request: ExportTraceServiceRequest, *names: str) -> ExportTraceServiceRequest:
    spans = request.resource_spans[0].scope_spans[0].spans
    keep = [s for s in spans if s.name not in names]
    del spans[:]
    spans.extend(keep)
    return request


def test_children_without_root_get_a_provisional_run_from_their_spans() -> None:
    request, sdk_spans = record(
        remote_child_run, {"service.name": "bot", "deployment.environment.name": "production"}
    )
    result = decode_request(request)
    assert result.runs == () and result.traces_without_run == (f"{REMOTE_TRACE_ID:032x}",)
    (run,) = result.provisional_runs
    assert run.provisional and run.attributes[PROVISIONAL] is True
    assert run.attributes["service.name"] == "bot"
    assert run.start_ns == min(s.start_time for s in sdk_spans)
    assert run.end_ns == max(s.end_time for s in sdk_spans)
    assert (run.status, run.error) == (SpanStatus.ERROR, "invoice service down")
    assert (run.agent_name, run.agent_version, run.env) == ("support-bot", 7, "production")
    assert run.root_span_id is None and run.input is None and run.output is None


def test_provisional_agent_comes_from_agent_attributes_without_an_agent_span() -> None:
    request, sdk_spans = record(remote_child_run)
    result = decode_request(
        _without(request, "invoke_agent support-bot", "execute_tool lookup_invoice")
    )
    (run,) = result.provisional_runs
    assert (run.agent_name, run.status, run.error) == ("support-bot", SpanStatus.UNSET, None)
    kept = [s for s in sdk_spans if s.name in ("chat gpt-4o", "execute_tool get_weather")]
    assert (run.start_ns, run.end_ns) == (kept[0].start_time, kept[1].end_time)
    only_tool = decode_request(
        _without(record(remote_child_run)[0], "invoke_agent support-bot", "chat gpt-4o")
    )
    assert only_tool.provisional_runs[0].agent_name is None


def test_a_root_or_stamp_in_the_request_means_no_provisional_run(genai: DecodeResult) -> None:
    assert len(genai.runs) == 1 and genai.provisional_runs == ()
    request, _ = record(genai_agent_run)
    spans = request.resource_spans[0].scope_spans[0].spans
    root = next(i for i, s in enumerate(spans) if not s.parent_span_id)
    del spans[root]
    children_only = decode_request(request)
    assert children_only.runs == () and len(children_only.provisional_runs) == 1
    assert children_only.provisional_runs[0].agent_name is None  # no span names an agent


def test_bad_ids_reject_only_that_span_naming_the_part() -> None:
    request, _ = record(genai_agent_run)
    spans = request.resource_spans[0].scope_spans[0].spans
    spans[2].trace_id = b"\x01\x02"
    spans[3].span_id = bytes(8)
    result = decode_request(request)
    assert result.rejected_count == 2
    assert str(result.rejected[0]).startswith("resourceSpans[0].scopeSpans[0].spans[2].traceId: ")
    assert result.rejected[1].path == "resourceSpans[0].scopeSpans[0].spans[3].spanId"
    assert len(result.spans) == len(spans) - 2
    assert "spans[2].traceId" in result.error_message()


def test_json_bad_span_is_rejected_with_its_path() -> None:
    request, _ = record(genai_agent_run)
    doc = json.loads(to_otlp_json(request))
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][1]["traceId"] = "xyz"
    doc["resourceSpans"][0]["scopeSpans"][0]["spans"][4]["attributes"][0]["value"] = {
        "intValue": "x"
    }
    result = decode_otlp(json.dumps(doc).encode(), "application/json")
    assert [r.path for r in result.rejected] == [
        "resourceSpans[0].scopeSpans[0].spans[1].traceId",
        "resourceSpans[0].scopeSpans[0].spans[4].attributes[0].value.intValue",
    ]


def test_links_keep_their_kind() -> None:
    request, _ = record(genai_agent_run)
    spans = request.resource_spans[0].scope_spans[0].spans
    link = spans[1].links.add()
    link.trace_id, link.span_id = spans[0].trace_id, spans[0].span_id
    kv = link.attributes.add()
    kv.key, kv.value.string_value = "agentdeck.link.kind", "policy"
    plain = spans[2].links.add()
    plain.trace_id, plain.span_id = spans[0].trace_id, spans[0].span_id
    result = decode_request(request)
    assert result.spans[1].links[0].kind is LinkKind.POLICY
    assert result.spans[2].links[0].kind is LinkKind.DATA
    assert result.spans[2].links[0].span_id == spans[0].span_id.hex()


@pytest.mark.parametrize(
    ("body", "ctype", "encoding", "error", "part"),
    [
        (b"\xff\xff\xff", PROTOBUF, None, OtlpDecodeError, "request body"),
        (b"{", "application/json", None, OtlpDecodeError, "request body"),
        (b"[]", "application/json", None, OtlpDecodeError, "request body"),
        (b'{"resourceSpans": 3}', "application/json", None, OtlpDecodeError, "resourceSpans"),
        (b"", "text/plain", None, UnsupportedMediaType, "Content-Type"),
        (b"x", PROTOBUF, "br", UnsupportedMediaType, "Content-Encoding"),
        (b"not gzip", PROTOBUF, "gzip", OtlpDecodeError, "request body"),
    ],
)
def test_unreadable_bodies_raise_input_errors_naming_the_part(
    body: bytes, ctype: str, encoding: str | None, error: type, part: str
) -> None:
    with pytest.raises(error) as info:
        decode_otlp(body, ctype, encoding)
    assert isinstance(info.value, InputError)
    assert str(info.value).startswith(part)


def test_gzip_bomb_stops_at_the_limit() -> None:
    bomb = gzip.compress(bytes(10_000_000))
    with pytest.raises(OtlpDecodeError, match="inflates past"):
        decode_otlp(bomb, PROTOBUF, "gzip", max_body_bytes=1_000_000)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.binary(max_size=512), st.sampled_from([PROTOBUF, "application/json"]))
def test_fuzz_arbitrary_bytes_only_raise_input_error(body: bytes, ctype: str) -> None:
    try:
        result = decode_otlp(body, ctype)
    except InputError:
        return
    assert isinstance(result, DecodeResult)


_BASE = record(genai_agent_run)[0].SerializeToString()


@st.composite
def _mutated_request(draw: st.DrawFn) -> bytes:
    """A real request with random bytes spliced in: mostly-valid structure, odd content."""
    data = bytearray(_BASE)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data) - 1))
        data[at : at + draw(st.integers(0, 3))] = draw(st.binary(max_size=4))
    return bytes(data)


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
_KEYS = st.sampled_from(
    [
        "gen_ai.operation.name",
        "openinference.span.kind",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "llm.input_messages.0.message.role",
        "llm.input_messages.0.message.tool_calls.x.tool_call.id",
        "gen_ai.prompt.1.content",
        "agentdeck.seq",
        "agentdeck.span.kind",
        "agentdeck.run.start_ns",
        "agentdeck.run.attributes",
        "input.value",
        "gen_ai.usage.input_tokens",
        "retrieval.documents.0.document.id",
    ]
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    _mutated_request(),
    st.dictionaries(_KEYS, _ANY_JSON | st.builds(json.dumps, _ANY_JSON), max_size=6),
    st.sampled_from(["chat", "execute_tool", "invoke_agent", "retrieval", "x"]),
)
def test_fuzz_odd_content_only_raises_input_error(body: bytes, attrs: dict, operation: str) -> None:
    with contextlib.suppress(InputError):
        decode_otlp(body, PROTOBUF)
    request = ExportTraceServiceRequest.FromString(_BASE)
    for span in request.resource_spans[0].scope_spans[0].spans:
        del span.attributes[:]
        add_attribute(span.attributes, "gen_ai.operation.name", operation)
        for key, value in attrs.items():
            add_attribute(span.attributes, key, value)
    result = decode_request(ExportTraceServiceRequest.FromString(request.SerializeToString()))
    assert len(result.spans) + result.rejected_count == len(
        request.resource_spans[0].scope_spans[0].spans
    )
