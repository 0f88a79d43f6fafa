"""Patching a provider SDK's model-calling methods so each request becomes an ``llm`` span.

A :class:`ProviderCall` subclass per API (OpenAI chat, OpenAI Responses, Anthropic messages)
says how to read the request into agentdeck's chat form and how to read the answer, plain or
streamed. Two wrappers are installed on a client's resource instance:

- :func:`patch_create` for methods that return the answer or a raw stream (``create``, and the
  structured-output ``parse``): it starts a detached ``llm`` span, calls the real method, and
  records the answer now (plain), after the await (async clients), or when the stream ends
  (streams are wrapped, never consumed here).
- :func:`patch_stream` for the ``.stream(...)`` helpers, which return a context manager: the
  span starts when the block is entered (that is when the request is sent) and ends when the
  helper stream is drained, fails, is closed, or its block is left, whichever comes first.

Some helpers send their request through the (patched) ``create`` of the same client; while a
helper does, :func:`passing_through` makes ``create`` pass straight through so the call is
recorded once, by the helper. The SDKs' ``with_raw_response`` / ``with_streaming_response``
variants also call the patched method and get the HTTP response wrapper back instead of the
answer; :mod:`agentdeck.integrations._raw` records those. Mapping failures are counted as
telemetry errors; the caller always gets the SDK's own result or exception.
"""

from __future__ import annotations

import functools
import inspect
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.integrations import _raw
from agentdeck.integrations._spans import call_params, end_llm, given, start_llm
from agentdeck.integrations._streams import (
    RecordedAsyncHelperStream,
    RecordedAsyncStream,
    RecordedHelperStream,
    RecordedStream,
)
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.scopes import Detached

_MARK = "__agentdeck_instrumented__"

_passthrough: ContextVar[bool] = ContextVar("agentdeck_provider_passthrough", default=False)


@contextmanager
def passing_through() -> Iterator[None]:
    """While inside, patched methods call the SDK without recording (a helper records instead)."""
    token = _passthrough.set(True)
    try:
        yield
    finally:
        _passthrough.reset(token)


def _patchable(resource: Any, method: str) -> Any:
    """``resource.<method>`` if it exists and is not patched yet, else None."""
    original = getattr(resource, method, None)
    if original is None or not callable(original) or getattr(original, _MARK, False):
        return None
    return original


def patch_create(resource: Any, kind: type[ProviderCall], method: str = "create") -> None:
    """Replace ``resource.<method>`` (``create``, ``parse``) on this instance, once.

    Does nothing when the method is missing (older SDKs) or already patched.
    """
    original = _patchable(resource, method)
    if original is None:
        return
    helper = None if method == "create" else method

    @functools.wraps(original)
    def create(*args: Any, **kwargs: Any) -> Any:
        if _passthrough.get():
            return original(*args, **kwargs)
        call = kind.begin(kwargs, helper)
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
    setattr(resource, method, create)


def patch_stream(resource: Any, kind: type[ProviderCall], method: str = "stream") -> None:
    """Replace the ``resource.<method>`` helper (returns a context manager) on this instance, once.

    The SDK's manager is wrapped: entering it starts the span and sends the request (through
    the SDK, not recorded a second time); the stream it gives is wrapped to end the span.
    """
    original = _patchable(resource, method)
    if original is None:
        return

    @functools.wraps(original)
    def stream(*args: Any, **kwargs: Any) -> Any:
        if _passthrough.get():
            return original(*args, **kwargs)
        with passing_through():  # async helpers call the (patched) create right here
            manager = original(*args, **kwargs)

        def start() -> ProviderCall | None:
            return kind.begin(kwargs, method) if kind.wants(kwargs) else None

        if hasattr(manager, "__aenter__"):
            return RecordedAsyncManager(manager, start)
        if hasattr(manager, "__enter__"):
            return RecordedManager(manager, start)
        return manager  # not the context manager this wrapper knows: leave it alone

    setattr(stream, _MARK, True)
    setattr(resource, method, stream)


class _ManagerBase:
    """A helper's context manager: same behaviour, plus the span around the stream it gives."""

    def __init__(self, manager: Any, start: Callable[[], ProviderCall | None]) -> None:
        self._manager = manager
        self._start = start
        self._proxy: RecordedHelperStream | RecordedAsyncHelperStream | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._manager, name)

    def _begin(self) -> ProviderCall | None:
        try:
            return self._start()
        except Exception as exc:
            rec.internal_error("provider stream start", exc)
            return None


class RecordedManager(_ManagerBase):
    """Wraps a sync helper's manager (``with client.chat.completions.stream(...) as s``)."""

    def __enter__(self) -> Any:
        call = self._begin()
        try:
            with passing_through():  # sync helpers send the request when entered
                stream = self._manager.__enter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        if call is None:
            return stream
        self._proxy = RecordedHelperStream(stream, call.observe_event, call.helper_end(stream))
        return self._proxy

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Any:  # fmt: skip
        try:
            return self._manager.__exit__(et, exc, tb)
        finally:
            if self._proxy is not None:
                self._proxy._finish(None, False)  # a no-op when it already ended


class RecordedAsyncManager(_ManagerBase):
    """Wraps an async helper's manager (``async with client.messages.stream(...) as s``)."""

    async def __aenter__(self) -> Any:
        call = self._begin()
        try:
            with passing_through():
                stream = await self._manager.__aenter__()
        except BaseException as exc:
            if call is not None:
                call.fail(exc)
            raise
        if call is None:
            return stream
        self._proxy = RecordedAsyncHelperStream(stream, call.observe_event, call.helper_end(stream))
        return self._proxy

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> Any:  # fmt: skip
        try:
            return await self._manager.__aexit__(et, exc, tb)
        finally:
            if self._proxy is not None:
                self._proxy._finish(None, False)


class ProviderCall(ABC):
    """One recorded request: its span, and how to read its answer (plain or streamed)."""

    provider = ""
    skip: frozenset[str] = frozenset()
    stream_types: tuple[type, ...] = ()

    def __init__(self, span: Detached) -> None:
        self.span = span
        self.helper: str | None = None  # "parse" / "stream" for the SDK's helper methods
        self.streaming = False  # the request asked for ``stream=True``
        self.extra: dict[str, Any] = {}  # attributes every end adds (raw responses: HTTP status)

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

    @classmethod
    def wants(cls, kwargs: dict[str, Any]) -> bool:
        """Whether a helper call with these arguments is a model call worth recording."""
        return True

    def observe_event(self, event: Any) -> None:
        """Accumulate one event of a helper stream (by default: as a raw stream item)."""
        self.observe(event)

    def snapshot(self, stream: Any) -> Any:
        """The helper stream's own accumulated answer, when its SDK exposes one (else None)."""
        return None

    # -- shared --

    @classmethod
    def begin(cls, kwargs: dict[str, Any], helper: str | None = None) -> ProviderCall | None:
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
        if span.handle is None:
            return None
        call = cls(span)
        call.helper = helper
        call.streaming = kwargs.get("stream") is True
        return call

    def fail(self, exc: BaseException) -> None:
        end_llm(self.span, None, exc, self.extra)

    async def finish_async(self, pending: Awaitable[Any]) -> Any:
        try:
            result = await pending
        except BaseException as exc:
            self.fail(exc)
            raise
        if _raw.is_raw_response(result):
            return await _raw.wrap_async(self, result)
        return self.wrap(result, is_async=True)

    def wrap(self, result: Any, *, is_async: bool) -> Any:
        """Record a complete answer now; wrap a stream (or a raw response) to record it later."""
        if _raw.is_raw_response(result):
            return _raw.wrap(self, result)
        if not isinstance(result, self.stream_types):
            self.record(result)
            return result
        proxy = RecordedAsyncStream if is_async else RecordedStream
        return proxy(result, self.observe, self.stream_end)

    def record(self, result: Any) -> None:
        """Record a complete answer and end the span."""
        try:
            response, attrs = self.answer(result)
        except Exception as exc:
            rec.internal_error(f"{self.provider} response", exc)
            response, attrs = None, {}
        self._end(response, None, attrs)

    def end_bare(self) -> None:
        """End the span with the request only (an answer the caller never read)."""
        self._end(None, None, {"llm.stream": True} if self.streaming else {})

    def _end(self, response: ModelResponse | None, exc: BaseException | None,
             attrs: dict[str, Any]) -> None:  # fmt: skip
        attrs = {**attrs, **self.extra}
        if self.helper is not None:
            attrs["llm.helper"] = self.helper
        end_llm(self.span, response, exc, attrs)

    def stream_end(self, exc: BaseException | None, complete: bool, stream: Any = None) -> None:
        """Record what a stream (raw, or a helper's ``stream``) delivered, and end the span."""
        response: ModelResponse | None
        try:
            snap = self.snapshot(stream) if stream is not None else None
            response, attrs = self.answer(snap) if snap is not None else self.streamed()
        except Exception as err:
            rec.internal_error(f"{self.provider} stream", err)
            response, attrs = None, {}
        self._end(response, exc, {**attrs, "llm.stream": True, "llm.stream_complete": complete})

    def helper_end(self, stream: Any) -> Callable[[BaseException | None, bool], None]:
        """The end callback of a helper ``stream``: reads its snapshot when it has one."""
        return lambda exc, complete: self.stream_end(exc, complete, stream)
