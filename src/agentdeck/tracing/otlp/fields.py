"""Interpreting one OTLP span's attributes: its agentdeck kind, inputs, outputs, attributes
and token usage. The vocabularies and their order of trust are described in
:mod:`otlp_decode`; the names are in :mod:`otlp_names`.

Attributes that a kind's mapping consumes (``gen_ai.tool.call.arguments`` on a tool span,
``llm.input_messages.*`` on an LLM span ...) are replaced by their agentdeck form; all others
are kept verbatim, so nothing a client sent is silently lost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from agentdeck.core.trace.model import LinkKind, SpanKind, TokenUsage
from agentdeck.tracing.otlp import names as n
from agentdeck.tracing.otlp import quirks
from agentdeck.tracing.otlp.map_out import outputs_from_messages, params_from_request
from agentdeck.tracing.otlp.messages import (
    from_genai_messages,
    from_legacy,
    from_openinference,
    system_message,
    tools_from_openinference,
    unflatten,
)
from agentdeck.tracing.otlp.values import JSON, loads_if_json, loads_or_raw
from agentdeck.tracing.otlp.wire import RawSpan

KIND_OF_LINK: dict[str, LinkKind] = {k.value: k for k in LinkKind}
_HANDOFF = re.compile(r"^(?:execute_tool\s+)?(?:transfer_to_|handoff[ _]to[ _])(\S.*)$", re.I)
_INFERENCE_EVENT = "gen_ai.client.inference.operation.details"
_USAGE_KEYS = frozenset(
    {
        n.USAGE_INPUT,
        n.USAGE_OUTPUT,
        n.USAGE_PROMPT_DEPRECATED,
        n.USAGE_COMPLETION_DEPRECATED,
        n.USAGE_CACHE_READ,
        n.USAGE_REASONING,
        n.OI_TOKENS_PROMPT,
        n.OI_TOKENS_COMPLETION,
        n.OI_TOKENS_TOTAL,
        n.OI_TOKENS_CACHE_READ,
        n.OI_TOKENS_REASONING,
    }
)
_ALWAYS = _USAGE_KEYS | {
    n.AD_KIND,
    n.AD_NAME,
    n.AD_SEQ,
    n.AD_ERROR,
    n.AD_INPUTS,
    n.AD_OUTPUTS,
    n.AD_ENV,
    n.AD_DEPLOYMENT_ID,
    n.OPERATION,
    n.OI_KIND,
    n.OI_INPUT,
    n.OI_INPUT_MIME,
    n.OI_OUTPUT,
    n.OI_OUTPUT_MIME,
}
_CONSUMED: dict[SpanKind, frozenset[str]] = {
    SpanKind.TOOL: _ALWAYS
    | {n.TOOL_NAME, n.TOOL_CALL_ID, n.TOOL_ARGUMENTS, n.TOOL_RESULT, n.OI_TOOL_NAME, n.OI_TOOL_ID}
    | {quirks.OI_TOOL_CALL_ID, quirks.TRACELOOP_INPUT, quirks.TRACELOOP_OUTPUT},
    SpanKind.LLM: _ALWAYS
    | {
        n.PROVIDER,
        n.SYSTEM_DEPRECATED,
        n.REQUEST_MODEL,
        n.RESPONSE_MODEL,
        n.AD_LLM_PARAMS,
        n.INPUT_MESSAGES,
        n.OUTPUT_MESSAGES,
        n.SYSTEM_INSTRUCTIONS,
        n.TOOL_DEFINITIONS,
        n.OI_MODEL,
        n.OI_PROVIDER,
        n.OI_SYSTEM,
        n.OI_PARAMS,
        n.TRACELOOP_REQUEST_TYPE,
    }
    | {n.REQUEST_PREFIX + s for s in n.REQUEST_PARAMS},
    SpanKind.AGENT: _ALWAYS
    | {
        n.AGENT_NAME,
        n.AGENT_VERSION,
        n.AD_AGENT_DIGEST,
        n.OI_AGENT_NAME,
        n.INPUT_MESSAGES,
        n.OUTPUT_MESSAGES,
    },
    SpanKind.RETRIEVAL: _ALWAYS | {n.RETRIEVAL_QUERY, n.RETRIEVAL_DOCUMENTS},
}
_CONSUMED[SpanKind.HANDOFF] = _CONSUMED[SpanKind.TOOL]
_PREFIXES: dict[SpanKind, tuple[str, ...]] = {
    SpanKind.LLM: (
        n.AD_RUN_PREFIX,
        n.OI_INPUT_MESSAGES,
        n.OI_OUTPUT_MESSAGES,
        n.OI_TOOLS,
        n.LEGACY_PROMPT_PREFIX,
        n.LEGACY_COMPLETION_PREFIX,
    ),
    SpanKind.RETRIEVAL: (n.AD_RUN_PREFIX, n.OI_RETRIEVAL_DOCUMENTS),
}


@dataclass(slots=True)
class Fields:
    """A span's interpreted content (mutable while it is assembled)."""

    attributes: dict[str, JSON]
    inputs: JSON
    outputs: JSON
    usage: TokenUsage | None
    exception: str | None  # "type: message" of the first exception event, if any


def agent_name_of(attrs: dict[str, JSON], span_name: str = "") -> str | None:
    """The agent a span names: ``gen_ai.agent.name``, ``agent.name``, else a producer's
    convention (:func:`quirks.agent_name`, e.g. a LangGraph subgraph's span name)."""
    name = attrs.get(n.AGENT_NAME)
    if not isinstance(name, str):
        name = attrs.get(n.OI_AGENT_NAME)
    if isinstance(name, str):
        return name
    return quirks.agent_name(attrs, span_name) if span_name else None


def _handoff_target(*names: JSON) -> str | None:
    for name in names:
        if isinstance(name, str):
            match = _HANDOFF.match(name)
            if match:
                return match.group(1).strip()
    return None


def span_kind(attrs: dict[str, JSON], name: str) -> tuple[SpanKind, str | None]:
    """The agentdeck kind of a span, and the hand-off target when it is a detected hand-off."""
    own = attrs.get(n.AD_KIND)
    if isinstance(own, str) and own in n.KIND_BY_VALUE:
        return n.KIND_BY_VALUE[own], None
    kind: SpanKind | None = None
    op = attrs.get(n.OPERATION)
    if isinstance(op, str):
        kind = n.KIND_OF_OPERATION.get(op)
    if kind is None:
        oi = attrs.get(n.OI_KIND)
        if isinstance(oi, str):
            kind = n.KIND_OF_OI_KIND.get(oi.upper())
            if oi.upper() in ("CHAIN", "AGENT"):
                if agent_name_of(attrs, name) is not None:
                    kind = SpanKind.AGENT
                elif name in quirks.OI_WORKFLOW_SPAN_NAMES or quirks.is_internal(attrs, name):
                    kind = SpanKind.CUSTOM  # a workflow or framework plumbing labelled AGENT
    if kind is None:
        tl = attrs.get(n.TRACELOOP_KIND)
        if isinstance(tl, str):
            kind = n.KIND_OF_TRACELOOP_KIND.get(tl)
    if kind is None:
        if attrs.get(n.TOOL_NAME) is not None:
            kind = SpanKind.TOOL
        elif attrs.get(n.REQUEST_MODEL) is not None or attrs.get(n.TRACELOOP_REQUEST_TYPE) in (
            "chat",
            "completion",
        ):
            kind = SpanKind.LLM
        else:
            kind = SpanKind.CUSTOM
    # OpenInference may label the hand-off tool AGENT or CHAIN: the name decides.
    if kind is SpanKind.TOOL or attrs.get(n.OI_KIND) in ("AGENT", "CHAIN"):
        target = _handoff_target(attrs.get(n.TOOL_NAME), attrs.get(n.OI_TOOL_NAME), name)
        if target is not None:
            return SpanKind.HANDOFF, target
    return kind, None


def _count(value: JSON) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


def _first(attrs: dict[str, JSON], *keys: str) -> JSON:
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            return value
    return None


def _usage(attrs: dict[str, JSON]) -> TokenUsage | None:
    inp = _count(_first(attrs, n.USAGE_INPUT, n.USAGE_PROMPT_DEPRECATED, n.OI_TOKENS_PROMPT))
    out = _count(
        _first(attrs, n.USAGE_OUTPUT, n.USAGE_COMPLETION_DEPRECATED, n.OI_TOKENS_COMPLETION)
    )
    cache = _count(_first(attrs, n.USAGE_CACHE_READ, n.OI_TOKENS_CACHE_READ))
    reasoning = _count(_first(attrs, n.USAGE_REASONING, n.OI_TOKENS_REASONING))
    if inp is None and out is None and cache is None and reasoning is None:
        return None
    return TokenUsage(inp or 0, out or 0, cache or 0, reasoning or 0)


def _plain(attrs: dict[str, JSON], key: str, mime_key: str) -> JSON:
    """OpenInference ``input.value`` / ``output.value`` as JSON data when its MIME type (or,
    lacking one, its first character) says JSON."""
    value = attrs.get(key)
    if not isinstance(value, str):
        return value
    mime = attrs.get(mime_key)
    if mime == n.MIME_JSON:
        return loads_or_raw(value)
    if mime == n.MIME_TEXT:
        return value
    return loads_if_json(value)


def _prefixed(attrs: dict[str, JSON], prefix: str) -> dict[str, JSON]:
    size = len(prefix)
    return {k[size:]: v for k, v in attrs.items() if k.startswith(prefix)}


def map_fields(raw: RawSpan, kind: SpanKind) -> Fields:
    """Inputs, outputs, attributes, usage and first exception of ``raw`` read as ``kind``."""
    attrs = raw.attrs
    consumed = _CONSUMED.get(kind, _ALWAYS)
    prefixes = _PREFIXES.get(kind, (n.AD_RUN_PREFIX,))
    attributes = {
        k: v for k, v in attrs.items() if k not in consumed and not k.startswith(prefixes)
    }
    exception: str | None = None
    content: dict[str, JSON] = {}  # GenAI content recorded on an event instead of the span
    if raw.events:
        kept = []
        for name, time_ns, event_attrs in raw.events:
            if name == _INFERENCE_EVENT:
                content.update(event_attrs)
                continue
            if name == "exception" and exception is None:
                etype, emsg = (
                    event_attrs.get("exception.type"),
                    event_attrs.get("exception.message"),
                )
                exception = ": ".join(str(x) for x in (etype, emsg) if x is not None) or None
            kept.append({"name": name, "time_ns": time_ns, "attributes": event_attrs})
        if kept:
            attributes[n.EVENTS_ATTR] = kept
    fields = Fields(attributes, None, None, _usage(attrs), exception)
    if kind is SpanKind.TOOL or kind is SpanKind.HANDOFF:
        _tool(attrs, raw.name, kind, fields)
    elif kind is SpanKind.LLM:
        _llm({**content, **attrs} if content else attrs, fields)
    elif kind is SpanKind.AGENT:
        _agent(attrs, raw.name, fields)
    elif kind is SpanKind.RETRIEVAL:
        _retrieval(attrs, fields)
    if n.AD_INPUTS in attrs:
        fields.inputs = loads_or_raw(attrs[n.AD_INPUTS])
    elif fields.inputs is None and n.OI_INPUT not in attrs and quirks.TRACELOOP_INPUT in attrs:
        fields.inputs = quirks.traceloop_input(attrs[quirks.TRACELOOP_INPUT])
        fields.attributes.pop(quirks.TRACELOOP_INPUT, None)
    elif fields.inputs is None:
        fields.inputs = _plain(attrs, n.OI_INPUT, n.OI_INPUT_MIME)
    if n.AD_OUTPUTS in attrs:
        fields.outputs = loads_or_raw(attrs[n.AD_OUTPUTS])
    elif fields.outputs is None and n.OI_OUTPUT not in attrs and quirks.TRACELOOP_OUTPUT in attrs:
        fields.outputs = quirks.traceloop_output(attrs[quirks.TRACELOOP_OUTPUT])
        fields.attributes.pop(quirks.TRACELOOP_OUTPUT, None)
    elif fields.outputs is None:
        fields.outputs = _plain(attrs, n.OI_OUTPUT, n.OI_OUTPUT_MIME)
    return fields


def _tool(attrs: dict[str, JSON], span_name: str, kind: SpanKind, f: Fields) -> None:
    native = n.AD_KIND in attrs
    if f.attributes.get(n.TOOL_TYPE) == "function":  # written by agentdeck; the default
        del f.attributes[n.TOOL_TYPE]
    name = _first(attrs, n.TOOL_NAME, n.OI_TOOL_NAME)
    if name is None and not native:
        name = (
            span_name[len("execute_tool ") :]
            if span_name.startswith("execute_tool ")
            else span_name
        )
    if name is not None:
        f.attributes[n.TOOL_NAME_ATTR] = name
    call_id = _first(attrs, n.TOOL_CALL_ID, n.OI_TOOL_ID, quirks.OI_TOOL_CALL_ID)
    if call_id is not None:
        f.attributes[n.TOOL_CALL_ID_ATTR] = call_id
    if n.TOOL_ARGUMENTS in attrs:
        f.inputs = {"args": loads_or_raw(attrs[n.TOOL_ARGUMENTS])}
    elif n.OI_INPUT in attrs:
        args = _plain(attrs, n.OI_INPUT, n.OI_INPUT_MIME)
        f.inputs = {"args": args}
        if not isinstance(args, dict | list):
            # One-parameter tools send the bare value; the decoder names the parameter from
            # the model's tool call with the same id when the request holds it.
            f.attributes[n.TOOL_ARGS_NOTE_ATTR] = n.BARE_ARGS_NOTE
    elif quirks.TRACELOOP_INPUT in attrs:
        f.inputs = {"args": quirks.traceloop_input(attrs[quirks.TRACELOOP_INPUT])}
    if n.TOOL_RESULT in attrs:
        f.outputs = {"result": loads_or_raw(attrs[n.TOOL_RESULT])}
    elif n.OI_OUTPUT in attrs:
        result, wrapped_id = quirks.tool_output(_plain(attrs, n.OI_OUTPUT, n.OI_OUTPUT_MIME))
        f.outputs = {"result": result}
        if wrapped_id is not None and call_id is None:
            f.attributes[n.TOOL_CALL_ID_ATTR] = wrapped_id
    elif quirks.TRACELOOP_OUTPUT in attrs:
        f.outputs = {"result": quirks.traceloop_output(attrs[quirks.TRACELOOP_OUTPUT])}


def _llm(attrs: dict[str, JSON], f: Fields) -> None:
    a = f.attributes
    for key, value in (
        (
            n.LLM_PROVIDER_ATTR,
            _first(attrs, n.PROVIDER, n.SYSTEM_DEPRECATED, n.OI_PROVIDER, n.OI_SYSTEM),
        ),
        (n.LLM_MODEL_ATTR, _first(attrs, n.REQUEST_MODEL, n.OI_MODEL)),
        (n.LLM_RESPONSE_MODEL_ATTR, attrs.get(n.RESPONSE_MODEL)),
    ):
        if value is not None:
            a[key] = value
    params: JSON = None
    if n.AD_LLM_PARAMS in attrs:
        params = loads_or_raw(attrs[n.AD_LLM_PARAMS])
    elif isinstance(loads_or_raw(attrs.get(n.OI_PARAMS)), dict):
        params = loads_or_raw(attrs[n.OI_PARAMS])
    else:
        request = {
            s: attrs[n.REQUEST_PREFIX + s]
            for s in n.REQUEST_PARAMS
            if n.REQUEST_PREFIX + s in attrs
        }
        params = params_from_request(request) if request else None
    if params is not None:
        a[n.LLM_PARAMS_ATTR] = params

    messages = from_genai_messages(attrs[n.INPUT_MESSAGES]) if n.INPUT_MESSAGES in attrs else None
    if messages is None:
        messages = from_openinference(_prefixed(attrs, n.OI_INPUT_MESSAGES))
    if messages is None:
        messages = from_legacy(_prefixed(attrs, n.LEGACY_PROMPT_PREFIX))
    history = quirks.responses_input_messages(attrs.get(n.OI_INPUT))
    if history is not None and len(history) > len(messages or ()):
        messages = history
    if n.SYSTEM_INSTRUCTIONS in attrs:
        system = system_message(attrs[n.SYSTEM_INSTRUCTIONS])
        if system is not None and not any(m.get("role") == "system" for m in messages or ()):
            messages = [system, *(messages or ())]
    tools = loads_or_raw(attrs[n.TOOL_DEFINITIONS]) if n.TOOL_DEFINITIONS in attrs else None
    if tools is None:
        tools = tools_from_openinference(_prefixed(attrs, n.OI_TOOLS))
    inputs: dict[str, Any] = {}
    if messages is not None:
        inputs["messages"] = messages
    if tools is not None:
        inputs["tools"] = tools
    if inputs:
        f.inputs = inputs

    out = from_genai_messages(attrs[n.OUTPUT_MESSAGES]) if n.OUTPUT_MESSAGES in attrs else None
    if out is None:
        out = from_openinference(_prefixed(attrs, n.OI_OUTPUT_MESSAGES))
    if out is None:
        out = from_legacy(_prefixed(attrs, n.LEGACY_COMPLETION_PREFIX))
    if not any(m.get("content") is not None or m.get("tool_calls") for m in out or ()):
        out = quirks.responses_output_messages(attrs.get(n.OI_OUTPUT)) or out
    f.outputs = outputs_from_messages(out)


def _agent(attrs: dict[str, JSON], span_name: str, f: Fields) -> None:
    a = f.attributes
    name = agent_name_of(attrs, span_name)
    if name is not None:
        a[n.AGENT_NAME_ATTR] = name
    version = attrs.get(n.AGENT_VERSION)
    if version is not None:
        as_int = _count(version) if isinstance(version, str) else None
        a[n.AGENT_VERSION_ATTR] = version if as_int is None else as_int
    if attrs.get(n.AD_AGENT_DIGEST) is not None:
        a[n.AGENT_DIGEST_ATTR] = attrs[n.AD_AGENT_DIGEST]
    if n.OI_INPUT not in attrs and n.INPUT_MESSAGES in attrs:
        messages = from_genai_messages(attrs[n.INPUT_MESSAGES])
        f.inputs = None if messages is None else {"messages": messages}
    if n.OI_OUTPUT not in attrs and n.OUTPUT_MESSAGES in attrs:
        f.outputs = outputs_from_messages(from_genai_messages(attrs[n.OUTPUT_MESSAGES]))


def _retrieval(attrs: dict[str, JSON], f: Fields) -> None:
    query = attrs.get(n.RETRIEVAL_QUERY)
    if query is not None:
        f.inputs = {"query": query}
    elif isinstance(attrs.get(n.OI_INPUT), str):
        f.inputs = {"query": attrs[n.OI_INPUT]}
    if n.RETRIEVAL_DOCUMENTS in attrs:
        f.outputs = {"documents": loads_or_raw(attrs[n.RETRIEVAL_DOCUMENTS])}
    else:
        docs = unflatten(_prefixed(attrs, n.OI_RETRIEVAL_DOCUMENTS))
        if docs:
            f.outputs = {
                "documents": [d.get("document") if isinstance(d, dict) else d for d in docs]
            }
