"""Stream proxies: the provider's stream, unchanged for the caller, that records when it ends.

One core serves the four wrappers (raw ``stream=True`` streams and the ``.stream()`` helpers'
streams, sync and async). Each is a :class:`wrapt.BaseObjectProxy`, so every attribute,
``isinstance`` check and ``repr`` is the provider's own; only iteration, closing and the
context-manager methods go through here. Every item is fed to ``on_item``; ``on_end(exc,
complete)`` is called exactly once, when the stream

- is exhausted (``complete=True``) or fails (``exc``);
- is closed, or its ``with`` / ``async with`` block is left;
- is garbage-collected without any of the above;
- and, for raw streams only, when the caller leaves its ``for`` / ``async for`` loop early
  (``break``, an exception in the loop body): a raw stream cannot be read again, so the span
  ends then, with what was seen. A helper stream lives as long as its ``with`` block (which
  ends it), and after a ``break`` the caller may still drain it with ``get_final_...()``.

Loops are driven by small iterator objects rather than generators, so that leaving an
``async for`` early ends the span at once (an abandoned async generator is only closed later,
by the event loop). Telemetry never raises into the caller: errors are counted by
:func:`agentdeck.tracing.sdk.recorder.internal_error`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from types import TracebackType
from typing import Any

import wrapt

from agentdeck.tracing.sdk import recorder as rec

__all__ = [
    "DRAINS",
    "RecordedAsyncHelperStream",
    "RecordedAsyncStream",
    "RecordedHelperStream",
    "RecordedStream",
]

OnEnd = Callable[[BaseException | None, bool], None]

#: Helper-stream methods that read the stream to its end before they return.
DRAINS = frozenset({"until_done", "get_final_completion", "get_final_response",
                    "get_final_message", "get_final_text"})  # fmt: skip


class _Core(wrapt.BaseObjectProxy):
    """The shared core: observe each item, finish exactly once."""

    #: Whether leaving a ``for`` loop early ends the stream (raw streams) or not (helpers).
    ends_on_exit = True

    def __init__(self, stream: Any, on_item: Callable[[Any], None], on_end: OnEnd | None) -> None:
        super().__init__(stream)
        self._self_on_item = on_item
        self._self_on_end = on_end
        self._self_once = threading.Lock()  # taken by the one _finish that reports

    def _observe(self, item: Any) -> None:
        try:
            self._self_on_item(item)
        except Exception as exc:
            rec.internal_error("stream item", exc)

    def _finish(self, exc: BaseException | None, complete: bool) -> None:
        if not self._self_once.acquire(blocking=False):
            return
        try:
            if self._self_on_end is not None:
                self._self_on_end(exc, complete)
        except Exception as err:
            rec.internal_error("stream end", err)

    def _failed(self, exc: BaseException) -> None:
        self._finish(exc, False)

    def __del__(self) -> None:  # the caller dropped the stream without draining or closing it
        try:
            once = object.__getattribute__(self, "_self_once")
        except AttributeError:  # never initialised
            return
        if not once.locked():
            self._finish(None, False)


class _Loop:
    """One ``for`` loop over a source, on behalf of a stream: the sync iterator."""

    __slots__ = ("_core", "_done", "_observe", "_source")

    def __init__(self, core: _Core, source: Iterator[Any], *, observe: bool = True,
                 loop: bool = True) -> None:  # fmt: skip
        self._core, self._source, self._observe = core, source, observe
        self._done = not loop  # a single step outside a loop: dropping it ends nothing

    def __iter__(self) -> _Loop:
        return self

    def __next__(self) -> Any:
        try:
            item = next(self._source)
        except StopIteration:
            self._done = True
            self._core._finish(None, True)
            raise
        except BaseException as exc:
            self._done = True
            self._core._failed(exc)
            raise
        if self._observe:
            self._core._observe(item)
        return item

    def __del__(self) -> None:  # the loop was left early (break, or an error in its body)
        if not self._done and self._core.ends_on_exit:
            self._core._finish(None, False)


class _AsyncLoop:
    """One ``async for`` loop over a source, on behalf of a stream: the async iterator."""

    __slots__ = ("_core", "_done", "_observe", "_source")

    def __init__(self, core: _Core, source: AsyncIterator[Any], *, observe: bool = True,
                 loop: bool = True) -> None:  # fmt: skip
        self._core, self._source, self._observe = core, source, observe
        self._done = not loop

    def __aiter__(self) -> _AsyncLoop:
        return self

    async def __anext__(self) -> Any:
        try:
            item = await self._source.__anext__()
        except StopAsyncIteration:
            self._done = True
            self._core._finish(None, True)
            raise
        except BaseException as exc:
            self._done = True
            self._core._failed(exc)
            raise
        if self._observe:
            self._core._observe(item)
        return item

    def __del__(self) -> None:
        if not self._done and self._core.ends_on_exit:
            self._core._finish(None, False)


class _SyncCore(_Core):
    """``for``, ``next()``, ``with`` and ``close()`` of a sync stream."""

    def __iter__(self) -> Iterator[Any]:
        return _Loop(self, iter(self.__wrapped__))

    def __next__(self) -> Any:
        return _Loop(self, self.__wrapped__, loop=False).__next__()

    def __enter__(self) -> Any:
        return self

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        try:
            close = getattr(self.__wrapped__, "close", None)
            if callable(close):
                close()
        finally:
            self._finish(None, False)


class _AsyncCore(_Core):
    """``async for``, ``anext()``, ``async with``, ``close()`` and ``aclose()`` of an async stream."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return _AsyncLoop(self, self.__wrapped__.__aiter__())

    async def __anext__(self) -> Any:
        return await _AsyncLoop(self, self.__wrapped__, loop=False).__anext__()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        await self.close()

    async def close(self) -> None:
        try:
            close = getattr(self.__wrapped__, "close", None)
            if callable(close):
                res = close()
                if hasattr(res, "__await__"):
                    await res
        finally:
            self._finish(None, False)

    async def aclose(self) -> None:
        await self.close()


class RecordedStream(_SyncCore):
    """Wraps a provider's sync stream (``stream=True``): same items, same errors; records when
    it ends (see the module docstring; a ``break`` out of its loop ends it)."""


class RecordedAsyncStream(_AsyncCore):
    """The async form of :class:`RecordedStream`."""


class _Helper:
    """The drain methods and ``text_stream`` of a helper stream go through the proxy."""

    ends_on_exit = False
    __wrapped__: Any
    # Each helper kind (sync, async) brings its own: a drain method called through, and the
    # recorded view of the helper's text stream.
    _drained: Callable[..., Any]
    _texts: Callable[[Any], Any]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.__wrapped__, name)
        if name in DRAINS and callable(attr):
            return functools.partial(self._drained, attr)
        if name == "text_stream":
            return self._texts(attr)
        return attr


class RecordedHelperStream(_Helper, _SyncCore):
    """Wraps the stream a provider's ``.stream()`` helper gives inside its ``with`` block.

    Same events, same methods. The drain methods (``until_done()``, ``get_final_...()``) read
    the stream through this proxy first, so every event is seen however the caller consumes it;
    ``text_stream`` ends the span when exhausted.
    """

    def _drained(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        for _ in self:
            pass
        result = method(*args, **kwargs)
        return self if result is self.__wrapped__ else result

    def _texts(self, texts: Iterator[str]) -> Iterator[str]:
        return _Loop(self, iter(texts), observe=False)


class RecordedAsyncHelperStream(_Helper, _AsyncCore):
    """The async form of :class:`RecordedHelperStream`."""

    async def _drained(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async for _ in self:
            pass
        result = await method(*args, **kwargs)
        return self if result is self.__wrapped__ else result

    def _texts(self, texts: AsyncIterator[str]) -> AsyncIterator[str]:
        return _AsyncLoop(self, texts.__aiter__(), observe=False)
