"""An OpenAI-compatible chat-completions client over httpx (used only when a key and base URL
are configured; the demo and the tests use the scripted model).

Translates agentdeck's chat format (``core/trace/model_call.py``) to the ``/chat/completions`` wire format
and back: assistant ``tool_calls`` become ``{"type": "function", "function": {name, arguments}}``
with JSON-encoded arguments; tools are offered as functions with their input schema.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.trace.model_call import ModelResponse, ToolCall


def _wire_message(m: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"role": m["role"], "content": m.get("content")}
    if m.get("tool_calls"):
        out["tool_calls"] = [
            {
                "id": c["id"],
                "type": "function",
                "function": {"name": c["name"], "arguments": json.dumps(c.get("arguments") or {})},
            }
            for c in m["tool_calls"]
        ]
    if m["role"] == "tool":
        out["tool_call_id"] = m.get("tool_call_id")
    return out


class OpenAICompatClient:
    """POSTs to ``{base_url}/chat/completions`` with a bearer key."""

    def __init__(
        self, base_url: str, api_key: str, model: str, *, transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.model = model
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout,
            transport=transport,
        )

    def complete(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], params: dict[str, Any]
    ) -> ModelResponse:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [_wire_message(m) for m in messages],
        }
        body.update(
            {k: v for k, v in params.items() if k in ("temperature", "max_tokens", "top_p")}
        )
        if tools:
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t["name"],
                        "description": t.get("description", ""),
                        "parameters": t.get("input_schema") or {"type": "object"},
                    },
                }
                for t in tools
            ]
        resp = self._client.post("/chat/completions", json=body)
        resp.raise_for_status()
        data = resp.json()
        msg = data["choices"][0]["message"]
        calls = [
            ToolCall(
                c["id"], c["function"]["name"], json.loads(c["function"].get("arguments") or "{}")
            )
            for c in msg.get("tool_calls") or ()
        ]
        u = data.get("usage") or {}
        usage = TokenUsage(int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0)))
        return ModelResponse.assistant(
            msg.get("content"), calls, model=data.get("model"), usage=usage
        )
