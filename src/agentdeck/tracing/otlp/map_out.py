"""agentdeck spans -> OTLP, under the OpenTelemetry GenAI semantic conventions.

A span keeps its ids, times, status and links; its name is the GenAI one (``invoke_agent X``,
``execute_tool X``, ``chat MODEL``: :func:`semconv_name`), its own name in ``agentdeck.span.name``
when that differs; its kind, inputs, outputs and attributes
are written as GenAI attributes (``gen_ai.operation.name`` ``chat`` / ``execute_tool`` /
``invoke_agent`` / ``retrieval``, tool name, call id, arguments, result, input and output
messages, token usage), so any OpenTelemetry backend shows them, plus an ``agentdeck.*``
namespace (kind, ``seq``, link kinds, the run stamp) so that :mod:`otlp_decode` gives back the
same span. Where the GenAI form would lose something (a message shape it cannot express,
extra input keys), the exact value also travels as ``agentdeck.inputs`` / ``agentdeck.outputs``;
that check is made here, on the exporter's thread, never on the agent's.

A :class:`Run` is carried by one span of its trace: the run's root span when the batch holds
it, else the earliest span of that trace in the batch. A run with no span in the batch is not
written (OTLP has nothing else to carry it); the exporter sends runs with their spans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as OtlpSpan

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.tracing.otlp import names as n
from agentdeck.tracing.otlp.messages import (
    finish_reason_of,
    from_genai_messages,
    to_genai_message,
)
from agentdeck.tracing.otlp.values import JSON, add_attribute, dumps, loads_or_raw

__all__ = ["DEFAULT_RESOURCE", "spans_to_otlp"]

DEFAULT_RESOURCE: Mapping[str, JSON] = {"service.name": "agentdeck"}
_STATUS_CODE = {
    SpanStatus.UNSET: n.STATUS_UNSET,
    SpanStatus.OK: n.STATUS_OK,
    SpanStatus.ERROR: n.STATUS_ERROR,
}
# agentdeck attributes written under another name, per kind (the rest go out verbatim).
_MAPPED: dict[SpanKind, frozenset[str]] = {
    SpanKind.TOOL: frozenset({n.TOOL_NAME_ATTR, n.TOOL_CALL_ID_ATTR}),
    SpanKind.HANDOFF: frozenset({n.TOOL_NAME_ATTR, n.TOOL_CALL_ID_ATTR}),
    SpanKind.LLM: frozenset(
        {n.LLM_PROVIDER_ATTR, n.LLM_MODEL_ATTR, n.LLM_RESPONSE_MODEL_ATTR, n.LLM_PARAMS_ATTR}
    ),
    SpanKind.AGENT: frozenset({n.AGENT_NAME_ATTR, n.AGENT_VERSION_ATTR, n.AGENT_DIGEST_ATTR}),
}
_NOTHING: frozenset[str] = frozenset()
_PARAM_OF_KEY = {key: suffix for suffix, key in n.REQUEST_PARAMS.items()}


def spans_to_otlp(
    spans: Iterable[Span],
    runs: Iterable[Run] = (),
    resource_attrs: Mapping[str, JSON] | None = None,
    scope_name: str = "agentdeck",
) -> ExportTraceServiceRequest:
    """One OTLP export request holding ``spans`` (one resource, one scope), each run stamped
    on a span of its trace. ``resource_attrs`` defaults to ``service.name=agentdeck``.

    Raises :class:`InputError` for a span whose ids are not W3C hex ids.
    """
    spans = list(spans)
    carriers = _run_carriers(spans, runs)
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    for key, value in (DEFAULT_RESOURCE if resource_attrs is None else resource_attrs).items():
        add_attribute(resource_spans.resource.attributes, key, value)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = scope_name
    out_spans = scope_spans.spans
    for span in spans:
        encode_span(span, out_spans.add(), carriers.get(span.span_id))
    return request


def _run_carriers(spans: list[Span], runs: Iterable[Run]) -> dict[str, Run]:
    """span id -> the run stamped on it."""
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span.trace_id, []).append(span)
    carriers: dict[str, Run] = {}
    for run in runs:
        members = by_trace.get(run.trace_id)
        if not members:
            continue
        chosen = next((s for s in members if s.span_id == run.root_span_id), None)
        chosen = chosen or next((s for s in members if s.parent_id is None), None)
        chosen = chosen or min(members, key=lambda s: (s.start_ns, s.seq))
        carriers[chosen.span_id] = run
    return carriers


def _id(value: str | None, size: int, span: Span, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value or "")
    except ValueError:
        raw = b""
    if len(raw) != size:
        raise InputError(
            f"span {span.span_id!r} of trace {span.trace_id!r}: {what} {value!r} is not {size * 2} hex digits"
        )
    return raw


def encode_span(span: Span, out: OtlpSpan, run: Run | None = None) -> None:
    """Write ``span`` (and the run stamp, if given) into the OTLP span ``out``."""
    out.trace_id = _id(span.trace_id, 16, span, "trace id")
    out.span_id = _id(span.span_id, 8, span, "span id")
    if span.parent_id is not None:
        out.parent_span_id = _id(span.parent_id, 8, span, "parent id")
    kind = span.kind
    out.name = semconv_name(span)
    out.kind = (
        OtlpSpan.SpanKind.SPAN_KIND_CLIENT
        if kind in (SpanKind.LLM, SpanKind.RETRIEVAL)
        else OtlpSpan.SpanKind.SPAN_KIND_INTERNAL
    )
    out.start_time_unix_nano = span.start_ns
    out.end_time_unix_nano = span.end_ns
    out.status.code = _STATUS_CODE[span.status]  # type: ignore[assignment]
    if span.status is SpanStatus.ERROR and span.error is not None:
        out.status.message = span.error
    attrs = out.attributes
    add = add_attribute
    add(attrs, n.AD_KIND, kind.value)
    add(attrs, n.AD_SEQ, span.seq)
    if out.name != span.name:
        add(attrs, n.AD_NAME, span.name)
    operation = n.OPERATION_OF_KIND.get(kind)
    if operation is not None:
        add(attrs, n.OPERATION, operation)
    add(attrs, n.OI_KIND, n.OI_KIND_OF_KIND[kind])
    if span.error is not None and span.status is not SpanStatus.ERROR:
        add(attrs, n.AD_ERROR, span.error)
    mapped = _MAPPED.get(kind, _NOTHING)
    for key, value in span.attributes.items():
        if key not in mapped:
            add(attrs, key, value)
    if kind is SpanKind.TOOL or kind is SpanKind.HANDOFF:
        _tool(span, attrs, kind is SpanKind.TOOL)
    elif kind is SpanKind.LLM:
        _llm(span, attrs)
    elif kind is SpanKind.AGENT:
        _agent(span, attrs)
    elif kind is SpanKind.RETRIEVAL:
        _retrieval(span, attrs)
    else:
        _plain_io(span, attrs)
    if span.usage is not None:
        u = span.usage
        add(attrs, n.USAGE_INPUT, u.input_tokens)
        add(attrs, n.USAGE_OUTPUT, u.output_tokens)
        if u.cache_read_tokens:
            add(attrs, n.USAGE_CACHE_READ, u.cache_read_tokens)
        if u.reasoning_tokens:
            add(attrs, n.USAGE_REASONING, u.reasoning_tokens)
    for link in span.links:
        ol = out.links.add()
        ol.trace_id = _id(link.trace_id, 16, span, "link trace id")
        ol.span_id = _id(link.span_id, 8, span, "link span id")
        add(ol.attributes, n.AD_LINK_KIND, link.kind.value)
    if run is not None:
        _run_stamp(run, attrs)


def semconv_name(span: Span) -> str:
    """The span's name under the GenAI conventions: ``invoke_agent {agent}``, ``execute_tool
    {tool}``, ``chat {model}``; other kinds keep their own name. (The own name travels as
    ``agentdeck.span.name`` when it differs, for the way back.)"""
    a = span.attributes
    if span.kind is SpanKind.TOOL:
        return f"execute_tool {span.tool_name or span.name}"
    if span.kind is SpanKind.AGENT:
        agent = a.get(n.AGENT_NAME_ATTR)
        return f"invoke_agent {agent if isinstance(agent, str) and agent else span.name}"
    if span.kind is SpanKind.LLM:
        model = a.get(n.LLM_MODEL_ATTR)
        return f"chat {model}" if isinstance(model, str) and model else "chat"
    return span.name


def _exact(attrs: Any, key: str, value: JSON, semantic: JSON) -> None:
    """Add ``key`` = exact JSON of ``value`` unless the GenAI form already decodes to it."""
    if value is not None and semantic != loads_or_raw(dumps(value)):
        add_attribute(attrs, key, dumps(value))


def _tool(span: Span, attrs: Any, as_tool: bool) -> None:
    a = span.attributes
    name = span.tool_name if as_tool else a.get(n.TOOL_NAME_ATTR)
    if name is not None:
        add_attribute(attrs, n.TOOL_NAME, name)
    if a.get(n.TOOL_CALL_ID_ATTR) is not None:
        add_attribute(attrs, n.TOOL_CALL_ID, a[n.TOOL_CALL_ID_ATTR])
    if as_tool:
        add_attribute(attrs, n.TOOL_TYPE, "function")
    inputs, outputs = span.inputs, span.outputs
    semantic_in: JSON = None
    if isinstance(inputs, dict) and "args" in inputs:
        add_attribute(attrs, n.TOOL_ARGUMENTS, dumps(inputs["args"]))
        semantic_in = {"args": loads_or_raw(dumps(inputs["args"]))}
    _exact(attrs, n.AD_INPUTS, inputs, semantic_in)
    semantic_out: JSON = None
    if isinstance(outputs, dict) and "result" in outputs:
        add_attribute(attrs, n.TOOL_RESULT, dumps(outputs["result"]))
        semantic_out = {"result": loads_or_raw(dumps(outputs["result"]))}
    _exact(attrs, n.AD_OUTPUTS, outputs, semantic_out)


def _llm(span: Span, attrs: Any) -> None:
    a = span.attributes
    for key, name in (
        (n.LLM_PROVIDER_ATTR, n.PROVIDER),
        (n.LLM_MODEL_ATTR, n.REQUEST_MODEL),
        (n.LLM_RESPONSE_MODEL_ATTR, n.RESPONSE_MODEL),
    ):
        if a.get(key) is not None:
            add_attribute(attrs, name, a[key])
    params = a.get(n.LLM_PARAMS_ATTR)
    if isinstance(params, dict):
        for key, value in params.items():
            suffix = _PARAM_OF_KEY.get(key)
            if suffix is not None and value is not None:
                add_attribute(attrs, n.REQUEST_PREFIX + suffix, value)
        if (params_from_request(_request_view(params)) or None) != params:
            add_attribute(attrs, n.AD_LLM_PARAMS, dumps(params))
    elif params is not None:
        add_attribute(attrs, n.AD_LLM_PARAMS, dumps(params))

    inputs, outputs = span.inputs, span.outputs
    semantic_in: dict[str, JSON] | None = None
    if isinstance(inputs, dict):
        semantic_in = {}
        messages = inputs.get("messages")
        if isinstance(messages, list):
            text = dumps([to_genai_message(m) for m in messages])
            add_attribute(attrs, n.INPUT_MESSAGES, text)
            semantic_in["messages"] = from_genai_messages(text)
        if "tools" in inputs:
            text = dumps(inputs["tools"])
            add_attribute(attrs, n.TOOL_DEFINITIONS, text)
            semantic_in["tools"] = loads_or_raw(text)
    _exact(attrs, n.AD_INPUTS, inputs, semantic_in or None)  # the decoder reads {} as None
    semantic_out: dict[str, JSON] | None = None
    if isinstance(outputs, dict) and "message" in outputs:
        choices = outputs.get("choices")
        listed: list[JSON] = (
            choices if isinstance(choices, list) and len(choices) > 1 else [outputs["message"]]
        )
        text = dumps([to_genai_message(m, finish_reason_of(m)) for m in listed])
        add_attribute(attrs, n.OUTPUT_MESSAGES, text)
        semantic_out = outputs_from_messages(from_genai_messages(text))
    _exact(attrs, n.AD_OUTPUTS, outputs, semantic_out)


def outputs_from_messages(messages: list[dict[str, Any]] | None) -> dict[str, JSON] | None:
    """An llm span's outputs from its output messages: the first, and all when several."""
    if not messages:
        return None
    if len(messages) == 1:
        return {"message": messages[0]}
    return {"message": messages[0], "choices": messages}


def _request_view(params: dict[str, JSON]) -> dict[str, JSON]:
    """The ``gen_ai.request.*`` attributes (suffix -> value) written for ``params``."""
    return {
        _PARAM_OF_KEY[k]: loads_or_raw(dumps(v))
        for k, v in params.items()
        if k in _PARAM_OF_KEY and v is not None
    }


def params_from_request(request: dict[str, JSON]) -> dict[str, JSON]:
    """agentdeck ``llm.params`` from ``gen_ai.request.*`` attributes (suffix -> value)."""
    return {n.REQUEST_PARAMS[s]: v for s, v in request.items() if s in n.REQUEST_PARAMS}


def _agent(span: Span, attrs: Any) -> None:
    a = span.attributes
    if a.get(n.AGENT_NAME_ATTR) is not None:
        add_attribute(attrs, n.AGENT_NAME, a[n.AGENT_NAME_ATTR])
    version = a.get(n.AGENT_VERSION_ATTR)
    if version is not None:  # GenAI's version is a string
        add_attribute(attrs, n.AGENT_VERSION, str(version) if isinstance(version, int) else version)
    if a.get(n.AGENT_DIGEST_ATTR) is not None:
        add_attribute(attrs, n.AD_AGENT_DIGEST, a[n.AGENT_DIGEST_ATTR])
    _plain_io(span, attrs)


def _retrieval(span: Span, attrs: Any) -> None:
    inputs, outputs = span.inputs, span.outputs
    semantic_in: JSON = None
    if isinstance(inputs, dict) and isinstance(inputs.get("query"), str):
        add_attribute(attrs, n.RETRIEVAL_QUERY, inputs["query"])
        semantic_in = {"query": inputs["query"]}
    _exact(attrs, n.AD_INPUTS, inputs, semantic_in)
    semantic_out: JSON = None
    if isinstance(outputs, dict) and isinstance(outputs.get("documents"), list):
        text = dumps(outputs["documents"])
        add_attribute(attrs, n.RETRIEVAL_DOCUMENTS, text)
        semantic_out = {"documents": loads_or_raw(text)}
    _exact(attrs, n.AD_OUTPUTS, outputs, semantic_out)


def _plain_io(span: Span, attrs: Any) -> None:
    """Inputs/outputs as OpenInference ``input.value`` / ``output.value``: text as
    ``text/plain``, anything else as JSON."""
    for value, key, mime_key in (
        (span.inputs, n.OI_INPUT, n.OI_INPUT_MIME),
        (span.outputs, n.OI_OUTPUT, n.OI_OUTPUT_MIME),
    ):
        if value is None:
            continue
        if isinstance(value, str):
            add_attribute(attrs, key, value)
            add_attribute(attrs, mime_key, n.MIME_TEXT)
        else:
            add_attribute(attrs, key, dumps(value))
            add_attribute(attrs, mime_key, n.MIME_JSON)


def _run_stamp(run: Run, attrs: Any) -> None:
    add = add_attribute
    add(attrs, n.RUN_START_NS, run.start_ns)
    for key, value in (
        (n.RUN_AGENT_NAME, run.agent_name),
        (n.RUN_AGENT_VERSION, run.agent_version),
        (n.RUN_AGENT_DIGEST, run.agent_digest),
        (n.RUN_ENV, run.env),
        (n.RUN_DEPLOYMENT_ID, run.deployment_id),
        (n.RUN_END_NS, run.end_ns),
        (n.RUN_ERROR, run.error),
        (n.RUN_ROOT_SPAN_ID, run.root_span_id),
        (n.RUN_OUTCOME, run.outcome.value if run.outcome is not None else None),
        (n.RUN_OUTCOME_SCORE, run.outcome_score),
        (n.RUN_OUTCOME_REASON, run.outcome_reason),
        (n.RUN_SESSION_ID, run.session_id),
        (n.RUN_USER_ID, run.user_id),
        (n.RUN_CANARY_ARM, run.canary_arm),
    ):
        if value is not None:
            add(attrs, key, value)
    add(attrs, n.RUN_STATUS, run.status.value)
    if run.input is not None:
        add(attrs, n.RUN_INPUT, dumps(run.input))
    if run.output is not None:
        add(attrs, n.RUN_OUTPUT, dumps(run.output))
    if run.attributes:
        add(attrs, n.RUN_ATTRIBUTES, dumps(run.attributes))
