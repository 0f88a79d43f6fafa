"""Chat messages between agentdeck's form and the two wire forms found on OTLP spans.

agentdeck's form (what an ``llm`` span's ``inputs["messages"]`` holds) is OpenAI-chat-like::

    {"role": "assistant", "content": "text" | None,
     "tool_calls": [{"id": "c1", "name": "get_weather", "arguments": {...}}],  # when any
     "tool_call_id": "c1",                                                       # tool role
     "name": "...", "reasoning": "...", "attachments": [...]}                    # when any

- GenAI semantic conventions: ``{"role", "parts": [{"type": "text"|"tool_call"|
  "tool_call_response"|"reasoning"|..., ...}], "name"?, "finish_reason"?}``, written by
  agentdeck and read back.
- OpenInference: flattened attributes ``llm.input_messages.{i}.message.role`` etc., read only;
  and the obsolete OpenLLMetry flattening ``gen_ai.prompt.{i}.role``, read only.

Every reader takes arbitrary JSON (the wire is untrusted) and returns None when the value is
not a list of messages at all; odd items inside a list are kept as text rather than dropped.
"""

from __future__ import annotations

from typing import Any

from agentdeck.tracing.otlp.values import JSON, dumps, loads_or_raw

Message = dict[str, Any]

# --- agentdeck -> GenAI --------------------------------------------------------------------


def to_genai_message(message: JSON, finish_reason: str | None = None) -> dict[str, Any]:
    """One agentdeck message as a GenAI message (``finish_reason`` for output messages)."""
    if not isinstance(message, dict):
        return {"role": "unknown", "parts": [{"type": "text", "content": dumps(message)}]}
    parts: list[dict[str, Any]] = []
    content = message.get("content")
    tool_call_id = message.get("tool_call_id")
    reasoning = message.get("reasoning")
    if isinstance(reasoning, str):
        parts.append({"type": "reasoning", "content": reasoning})
    if tool_call_id is not None:
        parts.append({"type": "tool_call_response", "id": tool_call_id, "response": content})
    elif isinstance(content, str):
        parts.append({"type": "text", "content": content})
    elif isinstance(content, list):  # OpenAI multimodal content parts
        for item in content:
            if isinstance(item, dict) and item.get("type") == "text":
                parts.append({"type": "text", "content": item.get("text")})
            else:
                parts.append(
                    item if isinstance(item, dict) else {"type": "text", "content": dumps(item)}
                )
    elif content is not None:
        parts.append({"type": "text", "content": dumps(content)})
    for call in message.get("tool_calls") or ():
        if isinstance(call, dict):
            parts.append(
                {
                    "type": "tool_call",
                    "id": call.get("id"),
                    "name": call.get("name"),
                    "arguments": call.get("arguments"),
                }
            )
    attachments = message.get("attachments")
    if isinstance(attachments, list):
        parts.extend(a for a in attachments if isinstance(a, dict))
    out: dict[str, Any] = {"role": message.get("role"), "parts": parts}
    if isinstance(message.get("name"), str):
        out["name"] = message["name"]
    if finish_reason is not None:
        out["finish_reason"] = finish_reason
    return out


def finish_reason_of(message: JSON) -> str:
    """GenAI requires a finish reason on output messages; agentdeck infers the usual one."""
    if isinstance(message, dict) and message.get("tool_calls"):
        return "tool_call"
    return "stop"


# --- GenAI -> agentdeck --------------------------------------------------------------------


def _text(value: JSON) -> str:
    return value if isinstance(value, str) else dumps(value)


def from_genai_message(raw: JSON) -> Message:
    """One GenAI message (or an older ``{"role", "content"}`` one) in agentdeck's form."""
    if not isinstance(raw, dict):
        return {"role": "unknown", "content": _text(raw)}
    role = raw.get("role")
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[dict[str, Any]] = []
    attachments: list[Any] = []
    tool_call_id: JSON = None
    responded = False
    parts = raw.get("parts")
    if not isinstance(parts, list):
        content = raw.get("content")
        parts = [] if content is None else [{"type": "text", "content": content}]
    for part in parts:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            texts.append(_text(part.get("content")))
        elif kind == "tool_call":
            calls.append(
                {
                    "id": part.get("id"),
                    "name": part.get("name"),
                    "arguments": loads_or_raw(part.get("arguments")),
                }
            )
        elif kind == "tool_call_response":
            responded = True
            tool_call_id = part.get("id")
            # the conventions' key is "response"; Pydantic AI writes "result"
            response = part.get("response", part.get("result"))
            if response is not None:
                texts.append(_text(response))
        elif kind == "reasoning":
            reasoning.append(_text(part.get("content")))
        else:
            attachments.append(part)
    out: Message = {
        "role": role if isinstance(role, str) else "unknown",
        "content": "\n".join(texts) if texts else None,
    }
    if calls:
        out["tool_calls"] = calls
    if responded:
        out["tool_call_id"] = tool_call_id
    if isinstance(raw.get("name"), str):
        out["name"] = raw["name"]
    if reasoning:
        out["reasoning"] = "\n".join(reasoning)
    if attachments:
        out["attachments"] = attachments
    return out


def from_genai_messages(value: JSON) -> list[Message] | None:
    """``gen_ai.input.messages`` / ``gen_ai.output.messages`` (JSON text or structured)."""
    value = loads_or_raw(value)
    if not isinstance(value, list):
        return None
    return [from_genai_message(m) for raw in value for m in _split_tool_responses(raw)]


def _split_tool_responses(raw: JSON) -> list[JSON]:
    """A message whose parts hold ``tool_call_response`` parts under another role (Pydantic
    AI sends each request's tool results, and its retry prompts, as one ``user`` message) as
    one ``tool`` message per response, then the rest of the message, in that order. A
    ``tool`` message is left whole."""
    if not isinstance(raw, dict) or raw.get("role") == "tool":
        return [raw]
    parts = raw.get("parts")
    if not isinstance(parts, list):
        return [raw]
    responses = [p for p in parts if isinstance(p, dict) and p.get("type") == "tool_call_response"]
    if not responses:
        return [raw]
    rest = [p for p in parts if not (isinstance(p, dict) and p.get("type") == "tool_call_response")]
    out: list[JSON] = [{"role": "tool", "parts": [p]} for p in responses]
    if rest:
        out.append({**raw, "parts": rest})
    return out


def system_message(value: JSON) -> Message | None:
    """``gen_ai.system_instructions`` (a list of parts, or plain text) as a system message."""
    value = loads_or_raw(value)
    if isinstance(value, str):
        return {"role": "system", "content": value}
    if isinstance(value, list):
        return from_genai_message({"role": "system", "parts": value})
    return None


# --- flattened attributes (OpenInference, OpenLLMetry) -------------------------------------


def unflatten(flat: dict[str, JSON]) -> list[Any]:
    """``{"0.message.role": "user", "0.message.tool_calls.1.x": 2}`` as nested lists/dicts:
    numeric segments become list positions (gaps closed, order kept). Conflicting keys (a
    value and a subtree at the same path) keep the subtree."""
    root: dict[str, Any] = {}
    for key, value in flat.items():
        *inner, last = key.split(".")
        node = root
        for seg in inner:
            child = node.get(seg)
            if not isinstance(child, dict):
                child = {}
                node[seg] = child
            node = child
        if not isinstance(node.get(last), dict):
            node[last] = value
    top = _listify(root)
    return top if isinstance(top, list) else []


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(k.isascii() and k.isdigit() and len(k) < 10 for k in node):
        return [_listify(node[k]) for k in sorted(node, key=int)]
    return {k: _listify(v) for k, v in node.items()}


def _get(obj: Any, *path: str) -> Any:
    for seg in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(seg)
    return obj


def from_openinference(flat: dict[str, JSON]) -> list[Message] | None:
    """``llm.input_messages.*`` / ``llm.output_messages.*`` (prefix already stripped)."""
    if not flat:
        return None
    messages: list[Message] = []
    for item in unflatten(flat):
        m = _get(item, "message")
        if not isinstance(m, dict):
            messages.append({"role": "unknown", "content": _text(item)})
            continue
        content = m.get("content")
        if content is None and isinstance(m.get("contents"), list):
            texts = [_get(c, "message_content", "text") for c in m["contents"]]
            content = "\n".join(t for t in texts if isinstance(t, str)) or None
        role = m.get("role")
        out: Message = {
            "role": role if isinstance(role, str) else "unknown",
            "content": None if content is None else _text(content),
        }
        calls = m.get("tool_calls")
        if isinstance(calls, list) and calls:
            out["tool_calls"] = [
                {
                    "id": _get(c, "tool_call", "id"),
                    "name": _get(c, "tool_call", "function", "name"),
                    "arguments": loads_or_raw(_get(c, "tool_call", "function", "arguments")),
                }
                for c in calls
            ]
        if "tool_call_id" in m:
            out["tool_call_id"] = m["tool_call_id"]
        if isinstance(m.get("name"), str):
            out["name"] = m["name"]
        messages.append(out)
    return messages


def from_legacy(flat: dict[str, JSON]) -> list[Message] | None:
    """OpenLLMetry's ``gen_ai.prompt.{i}.*`` / ``gen_ai.completion.{i}.*`` (prefix stripped)."""
    if not flat:
        return None
    messages: list[Message] = []
    for m in unflatten(flat):
        if not isinstance(m, dict):
            messages.append({"role": "unknown", "content": _text(m)})
            continue
        role = m.get("role")
        content = m.get("content")
        out: Message = {
            "role": role if isinstance(role, str) else "unknown",
            "content": None if content is None else _text(content),
        }
        calls = m.get("tool_calls")
        if isinstance(calls, list) and calls:
            out["tool_calls"] = [
                {
                    "id": _get(c, "id"),
                    "name": _get(c, "name"),
                    "arguments": loads_or_raw(_get(c, "arguments")),
                }
                for c in calls
            ]
        if "tool_call_id" in m:
            out["tool_call_id"] = m["tool_call_id"]
        messages.append(out)
    return messages


def tools_from_openinference(flat: dict[str, JSON]) -> list[JSON] | None:
    """``llm.tools.{i}.tool.json_schema`` (prefix stripped) as a list of tool definitions."""
    if not flat:
        return None
    return [loads_or_raw(_get(t, "tool", "json_schema")) for t in unflatten(flat)]
