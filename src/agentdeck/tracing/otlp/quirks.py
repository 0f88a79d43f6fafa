"""Producer quirks: what real instrumentation libraries send that the generic mapping in
:mod:`agentdeck.tracing.otlp.fields` would read wrong, in ONE table (:data:`QUIRKS`).

Each entry names the producer, the version the conformance corpus (``tests/otlp_corpus``) was
made with, and what is read from where; ``docs/otlp.md`` lists the same. The hooks are pure
functions of one span's attributes and name, so the result does not depend on the order in
which spans arrive or on how a trace is split into requests.

Generic readers used by the mapping:

- :func:`agent_name` - the agent a span *is*, when the producer names it only by the span name;
- :func:`is_internal` - a span the producer labels AGENT (or that looks like an agent) but that
  is the framework's plumbing, not an agent;
- :func:`tool_output` - a tool result wrapped in the framework's message envelope: the content
  and the tool-call id inside it;
- :func:`error_text` - the one-line error message and the traceback, apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from agentdeck.tracing.otlp.values import JSON, dumps, loads_or_raw

__all__ = [
    "QUIRKS",
    "Quirk",
    "agent_name",
    "error_text",
    "is_internal",
    "tool_output",
]

_TRACEBACK = "Traceback (most recent call last):"


@dataclass(frozen=True, slots=True)
class Quirk:
    """One producer's deviations from the conventions, and the hooks that read them."""

    producer: str
    version_tested: str
    reads: tuple[str, ...]  # what is read from where (mirrored in docs/otlp.md)
    agent_name: Callable[[dict[str, JSON], str], str | None] | None = None
    is_internal: Callable[[dict[str, JSON], str], bool] | None = None
    tool_output: Callable[[JSON], tuple[JSON, str | None] | None] | None = None


# =========================================================================================
# OpenInference on LangChain / LangGraph (openinference-instrumentation-langchain)
# =========================================================================================

LANGGRAPH_INTERNAL: frozenset[str] = frozenset(
    {
        # nodes of langgraph.prebuilt.create_react_agent and langchain.agents.create_agent
        "agent",
        "tools",
        "call_model",
        "acall_model",
        "should_continue",
        "model",
        "pre_model_hook",
        "post_model_hook",
        "generate_structured_response",
        # graph plumbing and LangChain runnables
        "__start__",
        "__end__",
        "LangGraph",
        "Prompt",
        "RunnableSequence",
        "RunnableParallel",
        "RunnableLambda",
        "RunnableCallable",
        "RunnableAssign",
        "ChannelWrite",
        "Branch",
    }
)


def _langgraph_metadata(attrs: dict[str, JSON]) -> dict[str, JSON] | None:
    """The LangChain run metadata of a span run inside a LangGraph graph, else None."""
    meta = attrs.get("metadata")
    if isinstance(meta, str) and "langgraph_node" in meta:
        meta = loads_or_raw(meta)
    if isinstance(meta, dict) and isinstance(meta.get("langgraph_node"), str):
        return meta
    return None


def _langgraph_agent(attrs: dict[str, JSON], name: str) -> str | None:
    """A node that is itself a compiled graph (``create_react_agent(..., name=X)`` added as
    node ``X``): the graph's own span has ``checkpoint_ns == langgraph_checkpoint_ns`` (its
    inner nodes extend the namespace with ``|node:...``; the parent graph's node span has no
    ``checkpoint_ns``). OpenInference sends no agent name: the span name is the agent."""
    meta = _langgraph_metadata(attrs)
    if meta is None or name in LANGGRAPH_INTERNAL or meta.get("langgraph_node") != name:
        return None
    ns = meta.get("checkpoint_ns")
    if isinstance(ns, str) and ns and ns == meta.get("langgraph_checkpoint_ns"):
        return name
    return None


def _langgraph_internal(attrs: dict[str, JSON], name: str) -> bool:
    """LangGraph's own nodes and runnables, which OpenInference labels CHAIN or AGENT (the
    prebuilt agent's ``agent`` node is labelled AGENT)."""
    meta = _langgraph_metadata(attrs)
    if meta is None:
        return False
    return name in LANGGRAPH_INTERNAL or (
        meta.get("langgraph_node") in LANGGRAPH_INTERNAL and _langgraph_agent(attrs, name) is None
    )


def _langchain_tool_output(value: JSON) -> tuple[JSON, str | None] | None:
    """A LangChain ``ToolMessage`` as OpenInference serializes it (``{"type": "tool", "data":
    {...}}``, or the ``lc`` constructor form), or a ``Command`` whose update carries one (a
    hand-off tool): its content and ``tool_call_id``."""
    if not isinstance(value, dict):
        return None
    if value.get("type") == "tool" and isinstance(value.get("data"), dict):
        data = value["data"]
    elif (
        value.get("lc") == 1
        and isinstance(value.get("id"), list)
        and value["id"][-1:] == ["ToolMessage"]
    ):
        data = value.get("kwargs")
    elif "goto" in value and isinstance(value.get("update"), dict):
        messages = value["update"].get("messages")
        if isinstance(messages, list) and len(messages) == 1:
            return _langchain_tool_output(messages[0])
        return None
    else:
        return None
    if not isinstance(data, dict) or "content" not in data:
        return None
    call_id = data.get("tool_call_id")
    return data["content"], call_id if isinstance(call_id, str) else None


LANGCHAIN = Quirk(
    producer="openinference-instrumentation-langchain",
    version_tested="0.1.80",
    reads=(
        "agent: a LangGraph node that is a compiled graph (metadata.langgraph_node == span "
        "name, metadata.checkpoint_ns == metadata.langgraph_checkpoint_ns); its name is the "
        "span name (no agent.name is sent)",
        "not agents: LangGraph's internal nodes and runnables (agent, tools, call_model, "
        "should_continue, RunnableSequence, Prompt ...), even when labelled AGENT",
        "tool result: output.value is a serialized ToolMessage (or a Command carrying one): "
        "the result is its content, tool.call_id its tool_call_id",
        "tool arguments: input.value; a tool of one parameter sends the bare value",
        "error: the status message is repr(exception) + traceback: the message is the "
        "exception event's 'type: message', the traceback goes to exception.stacktrace",
    ),
    agent_name=_langgraph_agent,
    is_internal=_langgraph_internal,
    tool_output=_langchain_tool_output,
)

# --- OpenAI side: OpenInference openai-agents / openai, OTel openai-v2 ------------------------

# openinference-instrumentation-openai-agents: the Agents SDK's trace is an AGENT span named
# "Agent workflow" with no agent.name (the workflow, not an agent); the agents are its
# descendants. Read as a custom span, so that every agent span names its agent.
OI_WORKFLOW_SPAN_NAMES: Final = frozenset({"Agent workflow"})

# The tool call id on an OpenInference TOOL span: "tool_call.id" (the message-level name,
# what OITracer users and openinference-instrumentation-openai's examples set), or "tool.id".
OI_TOOL_CALL_ID: Final = "tool_call.id"


def responses_input_messages(value: JSON) -> list[dict[str, Any]] | None:
    """OpenInference openai-agents ``input.value`` on a generation span: the whole history as
    Responses-API input items (``{"role", "content"}`` messages, ``function_call`` and
    ``function_call_output`` items), in agentdeck's message form. None when it is not such a
    list (a chat.completions request body is read from ``llm.input_messages.*`` instead)."""
    items = loads_or_raw(value)
    if not isinstance(items, list) or not items:
        return None
    out: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            return None
        kind = item.get("type")
        if kind == "function_call":
            call = _call(item)
            if out and out[-1].get("role") == "assistant" and out[-1].get("tool_calls"):
                out[-1]["tool_calls"].append(call)  # parallel calls: one assistant message
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            out.append(
                {
                    "role": "tool",
                    "content": output if isinstance(output, str) else dumps(output),
                    "tool_call_id": item.get("call_id"),
                }
            )
        elif "role" in item and (kind is None or kind == "message"):
            role = item.get("role")
            out.append(
                {"role": role if isinstance(role, str) else "unknown", "content": _content(item)}
            )
        else:
            return None  # an item this reader does not know: keep the flattened form
    return out


def responses_output_messages(value: JSON) -> list[dict[str, Any]] | None:
    """A Responses-API ``Response`` in ``output.value`` (OpenInference openai-agents) as one
    assistant message: the text of its ``message`` items and its ``function_call`` items as
    tool calls. None when ``value`` is not a response object."""
    response = loads_or_raw(value)
    if not isinstance(response, dict) or response.get("object") != "response":
        return None
    items = response.get("output")
    if not isinstance(items, list):
        return None
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            calls.append(_call(item))
        elif item.get("type") == "message":
            text = _content(item)
            if text is not None:
                texts.append(text)
    message: dict[str, Any] = {"role": "assistant", "content": "\n".join(texts) or None}
    if calls:
        message["tool_calls"] = calls
    return [message]


def _call(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item.get("call_id") or item.get("id"),
        "name": item.get("name"),
        "arguments": loads_or_raw(item.get("arguments")),
    }


def _content(item: dict[str, Any]) -> str | None:
    """A message item's content: a string, or the text of its ``input_text`` /
    ``output_text`` parts."""
    content = item.get("content")
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(p["text"])
            for p in content
            if isinstance(p, dict) and isinstance(p.get("text"), str)
        ]
        return "\n".join(texts) if texts else dumps(content)
    return dumps(content)


OPENAI_AGENTS = Quirk(
    producer="openinference-instrumentation-openai-agents",
    version_tested="2.6.0",
    reads=(
        "the workflow span 'Agent workflow' (AGENT, no agent.name) is not an agent",
        "generation input: the whole Responses-API history in input.value when it is longer "
        "than the flattened llm.input_messages",
        "generation output: the Response in output.value (text and function_call items) when "
        "the flattened output has neither text nor tool calls",
    ),
)

OPENINFERENCE_OPENAI = Quirk(
    producer="openinference-instrumentation-openai",
    version_tested="0.1.66",
    reads=("tool call id on TOOL spans: tool_call.id (or tool.id)",),
)

# =========================================================================================
# Traceloop / OpenLLMetry decorators (traceloop-sdk) and Pydantic AI
# =========================================================================================

TRACELOOP_INPUT: Final = "traceloop.entity.input"
TRACELOOP_OUTPUT: Final = "traceloop.entity.output"


def traceloop_input(value: JSON) -> JSON:
    """``traceloop.entity.input``: the decorated function's call as ``{"args": [...],
    "kwargs": {...}}`` (JSON text). Keyword arguments alone are the arguments; one positional
    argument alone is that value (a run's question); anything else is kept as sent."""
    call = loads_or_raw(value)
    if not isinstance(call, dict) or set(call) - {"args", "kwargs"}:
        return call
    args, kwargs = call.get("args") or [], call.get("kwargs") or {}
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        return call
    if not args:
        return kwargs
    if len(args) == 1 and not kwargs:
        return args[0]
    return call


def traceloop_output(value: JSON) -> JSON:
    """``traceloop.entity.output``: the decorated function's return value, as JSON text."""
    return loads_or_raw(value)


TRACELOOP = Quirk(
    producer="traceloop-sdk",
    version_tested="0.62.4",
    reads=(
        "agent and tool spans: traceloop.span.kind; the agent's name gen_ai.agent.name",
        "inputs: traceloop.entity.input, {args, kwargs} opened (keyword arguments as the "
        "tool's arguments, a lone positional argument as the run's input)",
        "outputs: traceloop.entity.output (JSON)",
        "no tool-call id on tool spans: no tool_call edge",
    ),
)

PYDANTIC_AI = Quirk(
    producer="pydantic-ai-slim (its own instrumentation, format 5)",
    version_tested="2.78.0",
    reads=(
        "tool results: tool_call_response parts inside a user message, with the text under "
        "'result': read as one tool message per response",
        "a delegating tool (an agent run inside a tool) nests the second agent under the "
        "tool span: no hand-off",
    ),
)

QUIRKS: tuple[Quirk, ...] = (
    LANGCHAIN,
    OPENAI_AGENTS,
    OPENINFERENCE_OPENAI,
    TRACELOOP,
    PYDANTIC_AI,
)


# --- readers used by the mapping ---------------------------------------------------------


def agent_name(attrs: dict[str, JSON], name: str) -> str | None:
    """The agent a span is, by a producer's convention (None when no quirk says so)."""
    for q in QUIRKS:
        if q.agent_name is not None:
            found = q.agent_name(attrs, name)
            if found is not None:
                return found
    return None


def is_internal(attrs: dict[str, JSON], name: str) -> bool:
    """Whether a span is a framework's plumbing that must not count as an agent."""
    return any(q.is_internal is not None and q.is_internal(attrs, name) for q in QUIRKS)


def tool_output(value: JSON) -> tuple[JSON, str | None]:
    """A tool's result unwrapped from a producer's message envelope, and the tool-call id
    found in it; the value itself (and None) when no envelope is recognised."""
    for q in QUIRKS:
        if q.tool_output is not None:
            found = q.tool_output(value)
            if found is not None:
                return found
    return value, None


def error_text(status_message: str, exception: str | None) -> tuple[str, str | None]:
    """``(message, traceback)``: a status message that embeds a Python traceback is cut to
    its first part (or to the exception event's ``type: message`` when there is one), and the
    traceback is returned apart."""
    at = status_message.find(_TRACEBACK)
    if at < 0:
        return status_message, None
    head = status_message[:at].strip()
    message = exception or head or status_message.splitlines()[-1].strip()
    return message, status_message[at:]
