"""Producer quirks: what real instrumentation libraries send that the generic reading in
:mod:`agentdeck.tracing.otlp.fields` would get wrong, one entry per quirk, each tested against
the recorded corpus in ``tests/otlp_corpus`` (versions in its manifests, listed in
``docs/otlp.md``).

Each section belongs to one family of producers; keep them apart.
"""

from __future__ import annotations

from typing import Any, Final

from agentdeck.tracing.otlp.values import JSON, dumps, loads_or_raw

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
