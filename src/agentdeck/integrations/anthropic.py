"""Anthropic Python SDK: record Messages API calls (streaming included) as ``llm`` spans.

::

    from anthropic import Anthropic
    from agentdeck.integrations.anthropic import instrument

    client = instrument(Anthropic())
    with agentdeck.run(agent="support-bot@production", input=q):
        client.messages.create(model="claude-sonnet-4-5", max_tokens=512, messages=[...])

:func:`instrument` patches ``create``, ``parse`` (structured outputs) and the ``stream``
helper of ``client.messages`` and ``client.beta.messages`` on that instance (``Anthropic`` or
``AsyncAnthropic``). Content blocks are mapped to agentdeck's chat form: ``system`` becomes a
system message; ``tool_use`` blocks become ``tool_calls`` (``arguments`` = the block's
``input``); each ``tool_result`` block becomes a ``tool`` message with its ``tool_call_id``;
``thinking`` becomes ``reasoning``; other blocks (images, documents) are kept as content parts.
Tools are recorded as given (Anthropic's tool form is already ``name``/``description``/
``input_schema``). A stream (``stream=True``) is accumulated from its events and recorded when
it ends, is closed, or is abandoned. A ``messages.stream(...)`` helper's span runs from entering
its ``with`` block to the end of the stream (drained by iteration, ``text_stream``,
``until_done()`` or ``get_final_message()``; failed; closed; or the block left) and records the
helper's accumulated message; ``parse`` and the helper also record the parsed output
(``message.parsed``) and ``llm.helper``. ``with_raw_response`` / ``with_streaming_response``
calls go through the patched ``create`` / ``parse`` and are recorded from what the SDK's
``parse()`` gives (see :mod:`agentdeck.integrations._raw`). Not recorded:
``beta.messages.tool_runner``.

Needs ``pip install 'agentdeck[anthropic]'``: importing this module without the ``anthropic``
package raises an ImportError naming that extra.
"""

from __future__ import annotations

from typing import Any, TypeVar

from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.integrations._provider import ProviderCall, patch_create, patch_stream
from agentdeck.integrations._spans import given, loads_args, plain, require
from agentdeck.tracing.sdk.scopes import Detached

__all__ = ["instrument"]

_anthropic = require("anthropic", "anthropic", "anthropic")

C = TypeVar("C")


def instrument(client: C) -> C:
    """Record ``client``'s Messages API calls; returns the same client.

    ``create``, ``parse`` and ``stream`` of ``messages`` and ``beta.messages`` are patched where
    the installed SDK has them. Instrumenting twice is harmless.
    """
    for messages in (getattr(client, "messages", None),
                     getattr(getattr(client, "beta", None), "messages", None)):  # fmt: skip
        if messages is not None:
            patch_create(messages, _Messages)
            patch_create(messages, _Messages, "parse")
            patch_stream(messages, _Messages)
    return client


class _Messages(ProviderCall):
    provider = "anthropic"
    skip = frozenset({"messages", "tools", "system"})
    stream_types = (_anthropic.Stream, _anthropic.AsyncStream)

    def __init__(self, span: Detached) -> None:
        super().__init__(span)
        self._blocks: dict[int, dict[str, Any]] = {}
        self._model: str | None = None
        self._id: str | None = None
        self._stop: str | None = None
        self._usage: dict[str, int] = {}

    @classmethod
    def messages(cls, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        system = kwargs.get("system")
        if given(system):
            out.append({"role": "system", "content": _joined(system)})
        for m in kwargs.get("messages") or ():
            out.extend(chat_messages(m))
        return out

    @classmethod
    def tool_def(cls, tool: Any) -> dict[str, Any]:
        t = plain(tool)
        return t if isinstance(t, dict) else {"name": str(t)}

    def answer(self, result: Any) -> tuple[ModelResponse, dict[str, Any]]:
        (message,) = chat_messages({"role": "assistant", "content": result.content})
        parsed = getattr(result, "parsed_output", None)  # ParsedMessage (parse, stream helper)
        if parsed is not None:
            message["parsed"] = plain(parsed)
        return (
            ModelResponse(message=message, model=result.model, usage=usage_of(plain(result.usage))),
            {"llm.finish_reason": result.stop_reason, "llm.response_id": result.id},
        )

    def snapshot(self, stream: Any) -> Any:
        try:
            return stream.current_message_snapshot  # raises before message_start
        except Exception:
            return None

    def observe(self, event: Any) -> None:
        etype = getattr(event, "type", "")
        if etype == "message_start":
            self._model, self._id = event.message.model, event.message.id
            self._usage.update(_ints(plain(event.message.usage)))
        elif etype == "content_block_start":
            block = plain(event.content_block)
            if block.get("type") == "tool_use":
                block["input"], block["_json"] = {}, []
            self._blocks[event.index] = block
        elif etype == "content_block_delta":
            block = self._blocks.setdefault(event.index, {"type": "text", "text": ""})
            delta = event.delta
            dtype = getattr(delta, "type", "")
            if dtype == "text_delta":
                block["text"] = block.get("text", "") + delta.text
            elif dtype == "input_json_delta":
                block.setdefault("_json", []).append(delta.partial_json)
            elif dtype == "thinking_delta":
                block["thinking"] = block.get("thinking", "") + delta.thinking
        elif etype == "message_delta":
            self._stop = getattr(event.delta, "stop_reason", None) or self._stop
            self._usage.update(_ints(plain(getattr(event, "usage", None)) or {}))

    def streamed(self) -> tuple[ModelResponse, dict[str, Any]]:
        blocks = []
        for _, b in sorted(self._blocks.items()):
            b = dict(b)
            parts = b.pop("_json", None)
            if parts:
                b["input"] = loads_args("".join(parts))
            blocks.append(b)
        (message,) = chat_messages({"role": "assistant", "content": blocks})
        usage = usage_of(self._usage) if self._usage else None
        return (
            ModelResponse(message=message, model=self._model, usage=usage),
            {"llm.finish_reason": self._stop, "llm.response_id": self._id},
        )


def _ints(d: Any) -> dict[str, int]:
    return {k: v for k, v in (d or {}).items() if isinstance(v, int)}


def _joined(content: Any) -> Any:
    """Text blocks as one string; anything else as given."""
    if isinstance(content, str):
        return content
    blocks = [plain(b) for b in content]
    if all(isinstance(b, dict) and b.get("type") == "text" for b in blocks):
        return "".join(b.get("text", "") for b in blocks)
    return blocks


def chat_messages(message: Any) -> list[dict[str, Any]]:
    """One Anthropic message as agentdeck chat messages (``tool_result`` blocks split out)."""
    m = plain(message)
    role = m.get("role", "unknown")
    content = m.get("content")
    if isinstance(content, str) or content is None:
        return [{"role": role, "content": content}]
    out: list[dict[str, Any]] = []
    rest: list[Any] = []
    calls: list[dict[str, Any]] = []
    thinking: list[str] = []
    for raw in content:
        b = plain(raw)
        kind = b.get("type") if isinstance(b, dict) else None
        if kind == "tool_result":
            msg = {"role": "tool", "tool_call_id": b.get("tool_use_id"),
                   "content": _joined(b.get("content") or "")}  # fmt: skip
            if b.get("is_error"):
                msg["is_error"] = True
            out.append(msg)
        elif kind == "tool_use":
            calls.append({"id": b.get("id"), "name": b.get("name"), "arguments": b.get("input")})
        elif kind == "thinking":
            thinking.append(b.get("thinking", ""))
        elif kind == "redacted_thinking":
            continue
        else:
            rest.append(b)
    if rest or calls or thinking or not out:
        msg = {"role": role, "content": _joined(rest) if rest else None}
        if calls:
            msg["tool_calls"] = calls
        if thinking:
            msg["reasoning"] = "\n".join(thinking)
        out.append(msg)
    return out


def usage_of(usage: Any) -> TokenUsage | None:
    if not isinstance(usage, dict):
        return None
    cached = usage.get("cache_read_input_tokens") or 0
    # Anthropic counts cache reads and writes apart from input_tokens; agentdeck's input
    # counts every input token, cached ones included (the OTel GenAI convention, and what
    # pricing assumes: docs/cost.md).
    return TokenUsage(
        input_tokens=(usage.get("input_tokens") or 0)
        + cached
        + (usage.get("cache_creation_input_tokens") or 0),
        output_tokens=usage.get("output_tokens") or 0,
        cache_read_tokens=cached,
    )
