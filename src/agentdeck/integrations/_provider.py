"""Patching a provider SDK's ``create`` method so each request becomes an ``llm`` span.

A :class:`ProviderCall` subclass per API (OpenAI chat, OpenAI Responses, Anthropic messages)
says how to read the request into agentdeck's chat form and how to read the answer, plain or
streamed. :func:`patch_create` installs one wrapper on a client's resource instance: it starts a
detached ``llm`` span, calls the real method, and records the answer now (plain), after the
await (async clients), or when the stream ends (streams are wrapped, never consumed here).
Mapping failures are counted as telemetry errors; the caller always gets the SDK's own result
or exception.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable
from typing import Any

from agentdeck.core.model import ModelResponse
from agentdeck.integrations._spans import (
    Detached,
    RecordedAsyncStream,
    RecordedStream,
    call_params,
    end_llm,
    given,
    start_llm,
)
from agentdeck.tracing import recorder as rec

_MARK = "__agentdeck_instrumented__"


def patch_create(resource: Any, kind: type[ProviderCall]) -> None:
    """Replace ``resource.create`` on this instance (once; a second call does nothing)."""
    original = resource.create
    if getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def create(*args: Any, **kwargs: Any) -> Any:
        call = kind.begin(kwargs)
        if call is None:
            return original(*args, **kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            call.fail(exc)
            raise
        if inspect.isawaitable(result):
            return call.finish_async(result)
        return call.wrap(result, is_async=False)

    setattr(create, _MARK, True)
    resource.create = create


class ProviderCall(ABC):
    """One recorded request: its span, and how to read its answer (plain or streamed)."""

    provider = ""
    skip: frozenset[str] = frozenset()
    stream_types: tuple[type, ...] = ()

    def __init__(self, span: Detached) -> None:
        self.span = span

    # -- what each API defines --

    @classmethod
    @abstractmethod
    def messages(cls, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
        """The request's context window in agentdeck's chat form."""

    @classmethod
    @abstractmethod
    def tool_def(cls, tool: Any) -> dict[str, Any]:
        """One offered tool as ``{"name", "description", "input_schema"}`` where possible."""

    @abstractmethod
    def answer(self, result: Any) -> tuple[ModelResponse, dict[str, Any]]:
        """A complete answer as a ModelResponse, plus extra span attributes."""

    @abstractmethod
    def observe(self, item: Any) -> None:
        """Accumulate one streamed event or chunk."""

    @abstractmethod
    def streamed(self) -> tuple[ModelResponse, dict[str, Any]]:
        """What the stream delivered so far, as :meth:`answer` would give it."""

    # -- shared --

    @classmethod
    def begin(cls, kwargs: dict[str, Any]) -> ProviderCall | None:
        """Start the span; None when not recording (or when reading the request failed)."""
        if rec.config is None:
            return None
        try:
            raw_tools = kwargs.get("tools")
            tools = [cls.tool_def(t) for t in raw_tools or ()] if given(raw_tools) else []
            model = kwargs.get("model")
            span = start_llm(messages=cls.messages(kwargs), model=str(model) if model else None,
                             tools=tools, params=call_params(kwargs, cls.skip),
                             provider=cls.provider)  # fmt: skip
        except Exception as exc:
            rec.internal_error(f"{cls.provider} request", exc)
            return None
        return cls(span) if span.handle is not None else None

    def fail(self, exc: BaseException) -> None:
        end_llm(self.span, None, exc)

    async def finish_async(self, pending: Awaitable[Any]) -> Any:
        try:
            result = await pending
        except BaseException as exc:
            self.fail(exc)
            raise
        return self.wrap(result, is_async=True)

    def wrap(self, result: Any, *, is_async: bool) -> Any:
        """Record a complete answer now; wrap a stream to record it when it ends."""
        if not isinstance(result, self.stream_types):
            try:
                response, attrs = self.answer(result)
            except Exception as exc:
                rec.internal_error(f"{self.provider} response", exc)
                response, attrs = None, {}
            end_llm(self.span, response, None, attrs)
            return result
        proxy = RecordedAsyncStream if is_async else RecordedStream
        return proxy(result, self.observe, self.stream_end)

    def stream_end(self, exc: BaseException | None, complete: bool) -> None:
        response: ModelResponse | None
        try:
            response, attrs = self.streamed()
        except Exception as err:
            rec.internal_error(f"{self.provider} stream", err)
            response, attrs = None, {}
        attrs = {**attrs, "llm.stream": True, "llm.stream_complete": complete}
        end_llm(self.span, response, exc, attrs)
