"""OpenAI chat-format messages, tools and usage in agentdeck's chat form (plain data, pure).

Shared by the OpenAI integration (live calls) and by imports of finished conversations, so that
both record the same shape: ``tool_calls`` as ``{"id", "name", "arguments"}`` with decoded
arguments, ``tool`` messages with ``tool_call_id``. That shape is what links an LLM span to the
tool spans it asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from agentdeck.core.trace.model import TokenUsage

__all__ = ["chat_message", "loads_args", "tool_def", "usage_from_dict"]


def loads_args(raw: Any) -> Any:
    """Tool-call arguments as a dict when they are a JSON object string, else as given."""
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
    return raw


def chat_message(m: Any) -> dict[str, Any]:
    """An OpenAI chat message (plain data) in agentdeck's chat form."""
    if not isinstance(m, Mapping):
        return {"role": "unknown", "content": m}
    out: dict[str, Any] = {"role": m.get("role", "unknown"), "content": m.get("content")}
    calls = []
    for c in m.get("tool_calls") or ():
        fn = c.get("function") or {}
        calls.append({"id": c.get("id"), "name": fn.get("name"),
                      "arguments": loads_args(fn.get("arguments"))})  # fmt: skip
    if calls:
        out["tool_calls"] = calls
    for key in ("tool_call_id", "name"):
        if m.get(key) is not None:
            out[key] = m[key]
    if m.get("refusal"):
        out["refusal"] = m["refusal"]
    return out


def tool_def(t: Any) -> dict[str, Any]:
    """A chat (``{"type": "function", "function": {...}}``) or Responses tool in agentdeck form."""
    if not isinstance(t, Mapping) or t.get("type", "function") != "function":
        return dict(t) if isinstance(t, Mapping) else {"name": str(t)}
    fn = t.get("function", t)
    if not isinstance(fn, Mapping):
        return {"name": str(fn)[:200]}
    out = {"name": fn.get("name"), "description": fn.get("description"),
           "input_schema": fn.get("parameters")}  # fmt: skip
    return {k: v for k, v in out.items() if v is not None}


def _count(d: Mapping[str, Any], *keys: str) -> int:
    for k in keys:
        v = d.get(k)
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise ValueError(f"usage.{k} must be a non-negative integer, not {v!r}")
        return v
    return 0


def usage_from_dict(d: Mapping[str, Any]) -> TokenUsage:
    """OpenAI chat (``prompt_tokens``...) or Responses/Anthropic (``input_tokens``...) usage."""
    pd = d.get("prompt_tokens_details") or d.get("input_tokens_details") or {}
    cd = d.get("completion_tokens_details") or d.get("output_tokens_details") or {}
    return TokenUsage(
        input_tokens=_count(d, "prompt_tokens", "input_tokens"),
        output_tokens=_count(d, "completion_tokens", "output_tokens"),
        cache_read_tokens=_count(pd, "cached_tokens") if isinstance(pd, Mapping) else 0,
        reasoning_tokens=_count(cd, "reasoning_tokens") if isinstance(cd, Mapping) else 0,
    )
