"""OpenAI Python SDK: record chat completions and Responses API calls as ``llm`` spans.

::

    from openai import OpenAI
    from agentdeck.integrations.openai import instrument

    client = instrument(OpenAI())
    with agentdeck.run(agent="support-bot@production", input=q):
        client.chat.completions.create(model="gpt-4o-mini", messages=[...], tools=[...])

:func:`instrument` patches, on that client instance (sync ``OpenAI`` or ``AsyncOpenAI``),
``create``, ``parse`` (structured outputs) and the ``stream`` helper of
``client.chat.completions``, ``client.beta.chat.completions`` and ``client.responses``. Each
call inside a run becomes an ``llm`` span holding the full message list in agentdeck's chat
form (``tool_calls`` with decoded arguments, ``tool`` messages with ``tool_call_id``), the
offered tools as ``{"name", "description", "input_schema"}``, the params, the answer and token
usage. A streamed answer (``stream=True``) is accumulated and recorded when the stream ends, is
closed, or is abandoned (then with ``llm.stream_complete = false``). A ``.stream(...)`` helper's
span runs from entering its ``with`` block to the end of the stream (drained, failed, closed, or
the block left); ``.parse`` and the helpers also record the parsed output (``message.parsed``)
and ``llm.helper``. Tool results fed back are linked to the tool spans that produced them
(tools run with ``@agentdeck.tool`` or ``guarded_call``).

The ``with_raw_response`` / ``with_streaming_response`` variants of ``create`` and ``parse``
go through the same patched methods and are recorded from what the SDK's ``parse()`` gives,
without reading a body the caller has not read (see :mod:`agentdeck.integrations._raw`). Not
recorded: ``responses.stream(response_id=...)`` (resuming an existing response is not a new call).
Needs ``pip install 'agentdeck[openai]'``: importing this module without the ``openai`` package
raises an ImportError naming that extra (``import agentdeck`` never imports it).
"""

from __future__ import annotations

from typing import Any, TypeVar

from agentdeck.core.trace.chat_format import chat_message as core_chat_message
from agentdeck.core.trace.chat_format import tool_def as core_tool_def
from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.integrations._provider import ProviderCall, patch_create, patch_stream
from agentdeck.integrations._spans import given, loads_args, plain, require
from agentdeck.tracing.sdk.scopes import Detached

__all__ = ["instrument"]

_openai = require("openai", "openai", "openai")

C = TypeVar("C")


def instrument(client: C) -> C:
    """Record ``client``'s chat completions and Responses API calls; returns the same client.

    ``create``, ``parse`` and ``stream`` are patched where the installed SDK has them. Calling
    it twice on one client is harmless. Outside ``agentdeck.run`` calls pass through.
    """
    beta = getattr(client, "beta", None)
    for chat in (_completions(client), _completions(beta)):
        if chat is not None:
            _patch(chat, _Chat)
    responses = getattr(client, "responses", None)
    if responses is not None:
        _patch(responses, _Responses)
    return client


def _completions(owner: Any) -> Any:
    return getattr(getattr(owner, "chat", None), "completions", None)


def _patch(resource: Any, kind: type[ProviderCall]) -> None:
    patch_create(resource, kind)
    patch_create(resource, kind, "parse")
    patch_stream(resource, kind)


def _parsed(message: dict[str, Any], parsed: Any) -> dict[str, Any]:
    """``message`` with the structured output parsed from it (``.parse``, helpers), if any."""
    if parsed is not None:
        message["parsed"] = plain(parsed)
    return message


class _OpenAICall(ProviderCall):
    provider = "openai"
    stream_types = (_openai.Stream, _openai.AsyncStream)

    @classmethod
    def tool_def(cls, tool: Any) -> dict[str, Any]:
        return tool_def(tool)


# -- chat completions -----------------------------------------------------------------------


class _Chat(_OpenAICall):
    skip = frozenset({"messages", "tools"})

    def __init__(self, span: Detached) -> None:
        super().__init__(span)
        self._text: list[str] = []
        self._calls: dict[int, dict[str, Any]] = {}
        self._model: str | None = None
        self._usage: TokenUsage | None = None
        self._finish: str | None = None
        self._id: str | None = None

    @classmethod
    def messages(cls, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        return [chat_message(m) for m in kwargs.get("messages") or ()]

    def answer(self, result: Any) -> tuple[ModelResponse, dict[str, Any]]:
        choice = result.choices[0] if result.choices else None
        message = chat_message(choice.message) if choice is not None else _assistant(None, [])
        message["role"] = "assistant"  # a helper's snapshot joins a role repeated in every chunk
        _parsed(message, getattr(getattr(choice, "message", None), "parsed", None))
        return (
            ModelResponse(message=message, model=result.model, usage=chat_usage(result.usage)),
            {"llm.finish_reason": getattr(choice, "finish_reason", None),
             "llm.response_id": result.id},
        )  # fmt: skip

    def observe(self, chunk: Any) -> None:
        self._model = getattr(chunk, "model", None) or self._model
        self._id = getattr(chunk, "id", None) or self._id
        if getattr(chunk, "usage", None) is not None:
            self._usage = chat_usage(chunk.usage)
        for choice in getattr(chunk, "choices", None) or ():
            if choice.index != 0:
                continue
            delta = choice.delta
            if delta.content:
                self._text.append(delta.content)
            for tc in delta.tool_calls or ():
                acc = self._calls.setdefault(tc.index, {"id": None, "name": "", "args": []})
                acc["id"] = tc.id or acc["id"]
                fn = tc.function
                if fn is not None:
                    acc["name"] += fn.name or ""
                    acc["args"].append(fn.arguments or "")
            self._finish = choice.finish_reason or self._finish

    def observe_event(self, event: Any) -> None:
        if getattr(event, "type", None) == "chunk":  # the helper's other events derive from it
            self.observe(event.chunk)

    def snapshot(self, stream: Any) -> Any:
        try:
            return stream.current_completion_snapshot  # raises before the first chunk
        except Exception:
            return None

    def streamed(self) -> tuple[ModelResponse, dict[str, Any]]:
        calls = [{"id": c["id"], "name": c["name"], "arguments": loads_args("".join(c["args"]))}
                 for _, c in sorted(self._calls.items())]  # fmt: skip
        message = _assistant("".join(self._text) if self._text else None, calls)
        return (
            ModelResponse(message=message, model=self._model, usage=self._usage),
            {"llm.finish_reason": self._finish, "llm.response_id": self._id},
        )


def _assistant(content: Any, calls: list[dict[str, Any]]) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        msg["tool_calls"] = calls
    return msg


def chat_message(message: Any) -> dict[str, Any]:
    """An OpenAI chat message (dict or SDK object) in agentdeck's chat form."""
    return core_chat_message(plain(message))


def chat_usage(usage: Any) -> TokenUsage | None:
    if usage is None:
        return None
    pd = getattr(usage, "prompt_tokens_details", None)
    cd = getattr(usage, "completion_tokens_details", None)
    return TokenUsage(
        input_tokens=usage.prompt_tokens or 0,
        output_tokens=usage.completion_tokens or 0,
        cache_read_tokens=(getattr(pd, "cached_tokens", None) or 0) if pd else 0,
        reasoning_tokens=(getattr(cd, "reasoning_tokens", None) or 0) if cd else 0,
    )


def tool_def(tool: Any) -> dict[str, Any]:
    """A chat (``{"type": "function", "function": {...}}``) or Responses tool in agentdeck form."""
    return core_tool_def(plain(tool))


# -- Responses API --------------------------------------------------------------------------


class _Responses(_OpenAICall):
    skip = frozenset({"input", "tools", "instructions"})

    def __init__(self, span: Detached) -> None:
        super().__init__(span)
        self._final: Any = None
        self._items: list[Any] = []
        self._text: list[str] = []
        self._model: str | None = None

    @classmethod
    def messages(cls, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if given(kwargs.get("instructions")):
            out.append({"role": "system", "content": kwargs["instructions"]})
        items = kwargs.get("input")
        if isinstance(items, str):
            out.append({"role": "user", "content": items})
        elif given(items):
            out.extend(response_items(items))
        return out

    @classmethod
    def wants(cls, kwargs: dict[str, Any]) -> bool:
        return not given(kwargs.get("response_id"))  # resuming a response is not a new call

    def answer(self, result: Any) -> tuple[ModelResponse, dict[str, Any]]:
        message = _merge(response_items(result.output or ()))
        _parsed(message, getattr(result, "output_parsed", None))
        return (
            ModelResponse(message=message, model=result.model, usage=responses_usage(result.usage)),
            {"llm.response_id": result.id, "llm.finish_reason": getattr(result, "status", None)},
        )

    def observe(self, event: Any) -> None:
        etype = getattr(event, "type", "")
        resp = getattr(event, "response", None)
        if resp is not None:
            self._model = getattr(resp, "model", None) or self._model
            if etype in ("response.completed", "response.incomplete", "response.failed"):
                self._final = resp
        elif etype == "response.output_item.done":
            self._items.append(event.item)
        elif etype == "response.output_text.delta":
            self._text.append(event.delta)

    def streamed(self) -> tuple[ModelResponse, dict[str, Any]]:
        if self._final is not None and self._final.output:
            return self.answer(self._final)
        message = _merge(response_items(self._items))
        if self._text and not message.get("content"):
            message["content"] = "".join(self._text)
        return ModelResponse(message=message, model=self._model), {}


def _text_of(content: Any) -> Any:
    """Responses content parts as one string when they are all text, else as given."""
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") in ("input_text", "output_text", "text") for p in content
    ):  # fmt: skip
        return "".join(str(p.get("text", "")) for p in content)
    return content


def response_items(items: Any) -> list[dict[str, Any]]:
    """Responses input/output items as agentdeck chat messages (consecutive calls merged)."""
    out: list[dict[str, Any]] = []
    for raw in items:
        it = plain(raw)
        if not isinstance(it, dict):
            out.append({"role": "unknown", "content": it})
            continue
        kind = it.get("type", "message")
        if kind == "message" or ("role" in it and kind not in ("function_call",)):
            out.append(
                {"role": it.get("role", "assistant"), "content": _text_of(it.get("content"))}
            )
        elif kind == "function_call":
            call = {"id": it.get("call_id"), "name": it.get("name"),
                    "arguments": loads_args(it.get("arguments"))}  # fmt: skip
            prev = out[-1] if out else None
            if prev is not None and prev.get("role") == "assistant" and not prev.get("content"):
                prev.setdefault("tool_calls", []).append(call)
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            out.append({"role": "tool", "tool_call_id": it.get("call_id"),
                        "content": _text_of(it.get("output"))})  # fmt: skip
        elif kind == "reasoning":
            summary = [s.get("text", "") for s in it.get("summary") or () if isinstance(s, dict)]
            out.append({"role": "assistant", "content": None, "reasoning": "\n".join(summary)})
        else:
            out.append({"role": "unknown", "content": it})
    return out


def _merge(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """A response's output items as one assistant message."""
    msg: dict[str, Any] = {"role": "assistant", "content": None}
    texts: list[str] = []
    for m in messages:
        if isinstance(m.get("content"), str):
            texts.append(m["content"])
        elif m.get("content") is not None:
            msg["content"] = m["content"]
        if m.get("tool_calls"):
            msg.setdefault("tool_calls", []).extend(m["tool_calls"])
        if m.get("reasoning"):
            msg["reasoning"] = m["reasoning"]
    if texts:
        msg["content"] = "".join(texts)
    return msg


def responses_usage(usage: Any) -> TokenUsage | None:
    if usage is None:
        return None
    idt = getattr(usage, "input_tokens_details", None)
    odt = getattr(usage, "output_tokens_details", None)
    return TokenUsage(
        input_tokens=usage.input_tokens or 0,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=(getattr(idt, "cached_tokens", None) or 0) if idt else 0,
        reasoning_tokens=(getattr(odt, "reasoning_tokens", None) or 0) if odt else 0,
    )
