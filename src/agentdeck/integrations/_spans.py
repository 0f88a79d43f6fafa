"""What every integration shares: detached spans, observed tool calls, stream proxies, imports.

Frameworks report steps as start/end callbacks (LangChain, the Agents SDK) or hand back
streams the caller drains later (OpenAI, Anthropic). Neither fits a ``with`` block, so spans
are recorded through the tracing layer's public :class:`~agentdeck.tracing.scopes.Detached`:
opened now and finished later (exactly once) *without* becoming the current span, so the
caller's context is never changed behind its back. It reuses the SDK's own blocks (``run``,
``llm``, ``span``), so a detached ``llm`` span gets the same automatic data-flow links (to the
tool results it consumed, and from the tool calls it asked for) as ``agentdeck.llm``.

Everything here is telemetry: it never raises into the caller (errors are counted by
:func:`agentdeck.tracing.recorder.internal_error`).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import ModuleType, TracebackType
from typing import Any

from agentdeck.core.model import ModelResponse
from agentdeck.core.trace import SpanKind, SpanLink
from agentdeck.tracing import recorder as rec
from agentdeck.tracing.recorder import SpanHandle
from agentdeck.tracing.scopes import Detached, LlmCall, llm, span


def require(module: str, extra: str, integration: str) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"agentdeck.integrations.{integration} needs the {module.split('.')[0]!r} package: "
            f"pip install 'agentdeck[{extra}]'"
        ) from exc


def start_llm(
    *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]],
    params: dict[str, Any], provider: str, parent: SpanHandle | None = None,
) -> Detached:  # fmt: skip
    """A detached ``llm`` span, started (a no-op one when not recording)."""
    d = Detached(llm(messages=messages, model=model, tools=tools, params=params,
                     provider=provider))  # fmt: skip
    d.start(parent)
    return d


def end_llm(d: Detached, response: ModelResponse | None, exc: BaseException | None = None,
            attributes: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """Record ``response`` (and extra attributes) on a detached ``llm`` span and finish it."""
    h = d.handle
    if isinstance(h, LlmCall):
        if response is not None:
            h.record(response)
        for k, v in (attributes or {}).items():
            if v is not None:
                h.set_attribute(k, v)
    d.end(exc)


def set_llm_request(
    d: Detached, *, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
    model: str | None, params: dict[str, Any] | None,
) -> None:  # fmt: skip
    """Fill in the request of a detached ``llm`` span opened before the framework knew it.

    (The Agents SDK fills a generation span's input only when the call is done.)
    """
    block = d.block
    if isinstance(block, llm) and d.handle is not None:
        block.set_request(messages=messages, tools=tools, model=model, params=params)


class FrameworkError(Exception):
    """An error a framework reported on one of its spans (recorded as the span's error)."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data


class ObservedTool:
    """A tool call a framework reported (start, then end) and no guarded wrapper claimed.

    Recorded like a ``@tool`` span: ``inputs={"args": ...}``, ``outputs={"result": ...}``,
    ``tool.name``, and linked from the LLM span that asked for it; the next LLM call links to it.
    """

    __slots__ = ("claimed", "detached", "name", "parent")

    def __init__(self, name: str, args: Any, parent: SpanHandle | None) -> None:
        self.name, self.parent, self.claimed = name, parent, False
        self.detached = Detached(
            span(name, SpanKind.TOOL, inputs={"args": args}, attributes={"tool.name": name})
        )
        self.detached.start(parent)

    def set_args(self, args: Any) -> None:
        """Replace the recorded args (for frameworks that report them after the start)."""
        block = self.detached.block
        if isinstance(block, span):
            block.set_inputs({"args": args})

    def end(self, result: Any = None, exc: BaseException | None = None) -> None:
        h = self.detached.handle
        if self.claimed or h is None:
            return
        try:
            h.output = {"result": result} if exc is None else None
            run_rec = h.scope.run if h.scope is not None else None
            if run_rec is not None:
                pend = run_rec.pending_calls.get(self.name)
                if pend:
                    llm_sid, call_id = pend.pop(0)
                    h.link(SpanLink(run_rec.trace_id, llm_sid))
                    h.set_attribute("tool.call_id", call_id)
                run_rec.fresh_results.append(h.span_id)
        except Exception as err:
            rec.internal_error("observed tool", err)
        self.detached.end(exc)


class ToolSlots:
    """Tool calls in flight, by the framework's id: observers open them, guarded wrappers claim.

    When a framework tool is wrapped for policy, the wrapper records the tool span itself
    (through ``guarded_call``) and claims the observer's slot, so the call is recorded once,
    under the parent the observer knew.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, ObservedTool] = {}

    def open(self, key: str, tool: ObservedTool) -> None:
        with self._lock:
            self._slots[key] = tool

    def claim(self, key: str) -> SpanHandle | None:
        """Mark the slot as recorded by a guarded wrapper; its parent span (None if unknown)."""
        with self._lock:
            slot = self._slots.get(key)
        if slot is None:
            return None
        slot.claimed = True
        return slot.parent

    def pop(self, key: str) -> ObservedTool | None:
        with self._lock:
            return self._slots.pop(key, None)


slots = ToolSlots()


# -- small conversions ----------------------------------------------------------------------


def loads_args(raw: Any) -> Any:
    """Tool-call arguments as a dict when they are a JSON object string, else as given."""
    if isinstance(raw, str):
        try:
            return json.loads(raw) if raw.strip() else {}
        except ValueError:
            return raw
    return raw


def plain(value: Any) -> Any:
    """A provider object (pydantic model) as plain data; anything else as is.

    A class (the ``response_format`` / ``text_format`` / ``output_format`` of structured
    outputs) becomes ``{"type": "json_schema", "name", "schema"}``.
    """
    if isinstance(value, type):
        return format_type(value)
    dump = getattr(value, "model_dump", None)
    if not callable(dump):
        return value
    # warnings=False: generic parsed models (``ParsedChatCompletionMessage[T]``) make pydantic
    # warn on dump, and telemetry must not warn in the caller's name.
    for kwargs in ({"exclude_none": True, "mode": "json", "warnings": False},
                   {"exclude_none": True, "mode": "json"}, {}):  # fmt: skip
        try:
            return dump(**kwargs)
        except Exception:
            continue
    return value


def format_type(cls: type) -> dict[str, Any]:
    """A structured-output type as recorded: its name, and its JSON schema when it has one."""
    out: dict[str, Any] = {"type": "json_schema", "name": cls.__name__}
    schema = getattr(cls, "model_json_schema", None)
    if callable(schema):
        with contextlib.suppress(Exception):  # not every type has a JSON schema
            out["schema"] = schema()
    return out


def given(value: Any) -> bool:
    """False for the SDKs' "not given" sentinels (``NOT_GIVEN``, ``omit``)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def call_params(kwargs: Mapping[str, Any], skip: frozenset[str]) -> dict[str, Any]:
    """The request's parameters worth recording (sentinels, transport options and ``skip`` out)."""
    transport = {"extra_headers", "extra_query", "extra_body", "timeout"}
    return {k: plain(v) for k, v in kwargs.items()
            if k not in skip and k not in transport and given(v)}  # fmt: skip


# -- streams --------------------------------------------------------------------------------


class _StreamBase:
    """Shared by the stream proxies: feed each item to ``on_item``, finish exactly once."""

    def __init__(self, stream: Any, on_item: Callable[[Any], None],
                 on_end: Callable[[BaseException | None, bool], None] | None) -> None:  # fmt: skip
        self._stream = stream
        self._on_item = on_item
        self._on_end = on_end
        self._once = threading.Lock()  # taken by the one _finish that reports

    def _observe(self, item: Any) -> None:
        try:
            self._on_item(item)
        except Exception as exc:
            rec.internal_error("stream item", exc)

    def _finish(self, exc: BaseException | None, complete: bool) -> None:
        if not self._once.acquire(blocking=False):
            return
        try:
            self._report(exc, complete)
        except Exception as err:
            rec.internal_error("stream end", err)

    def _report(self, exc: BaseException | None, complete: bool) -> None:
        if self._on_end is not None:
            self._on_end(exc, complete)

    def __getattr__(self, name: str) -> Any:  # the provider stream's other attributes
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __del__(self) -> None:  # the caller dropped the stream without draining or closing it
        once = self.__dict__.get("_once")
        if once is not None and not once.locked():
            self._finish(None, False)


class RecordedStream(_StreamBase):
    """Wraps a provider's sync stream: same items, same errors; records when it ends.

    "Ends" is: exhausted, failed, closed, left (``with``), abandoned by a ``break`` out of a
    ``for`` loop, or garbage-collected; whatever was seen by then is recorded.
    """

    def __iter__(self) -> Iterator[Any]:
        complete = False
        try:
            for item in self._stream:
                self._observe(item)
                yield item
            complete = True
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        finally:
            self._finish(None, complete)

    def __next__(self) -> Any:
        try:
            item = next(self._stream)
        except StopIteration:
            self._finish(None, True)
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._observe(item)
        return item

    def __enter__(self) -> RecordedStream:
        return self

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if callable(close):
                close()
        finally:
            self._finish(None, False)


class RecordedAsyncStream(_StreamBase):
    """The async form of :class:`RecordedStream` (``async for``, ``async with``, ``aclose``)."""

    async def __aiter__(self) -> AsyncIterator[Any]:
        complete = False
        try:
            async for item in self._stream:
                self._observe(item)
                yield item
            complete = True
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        finally:
            self._finish(None, complete)

    async def __anext__(self) -> Any:
        try:
            item = await self._stream.__anext__()
        except StopAsyncIteration:
            self._finish(None, True)
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._observe(item)
        return item

    async def __aenter__(self) -> RecordedAsyncStream:
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        await self.close()

    async def close(self) -> None:
        try:
            close = getattr(self._stream, "close", None)
            if callable(close):
                res = close()
                if hasattr(res, "__await__"):
                    await res
        finally:
            self._finish(None, False)

    async def aclose(self) -> None:
        await self.close()


# -- helper streams (``client....stream(...)`` context managers) ---------------------------

#: Helper-stream methods that read the stream to its end before they return.
DRAINS = frozenset({"until_done", "get_final_completion", "get_final_response",
                    "get_final_message", "get_final_text"})  # fmt: skip


class _HelperStreamBase(_StreamBase):
    """The drain methods and ``text_stream`` go through the proxy (sync and async alike)."""

    def __getattr__(self, name: str) -> Any:
        attr = super().__getattr__(name)
        if name in DRAINS and callable(attr):
            return functools.partial(self._drained, attr)
        if name == "text_stream":
            return self._texts(attr)
        return attr

    def _drained(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _texts(self, texts: Any) -> Any:
        raise NotImplementedError


class RecordedHelperStream(_HelperStreamBase):
    """Wraps the stream a provider's ``.stream()`` helper gives inside its ``with`` block.

    Same events, same methods. A helper stream lives as long as its ``with`` block, so it ends
    when drained (iterated to the end, ``until_done()``, a ``get_final_...()`` method, or its
    ``text_stream`` exhausted), when it fails, when it is closed or its block is left, or when
    it is garbage-collected; a ``break`` out of a ``for`` loop alone does not end it (the caller
    may go on with ``get_final_...()``). The drain methods read the stream through this proxy
    first, so every event is seen however the caller consumes it.
    """

    def __iter__(self) -> Iterator[Any]:
        try:
            for item in self._stream:
                self._observe(item)
                yield item
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._finish(None, True)

    def __next__(self) -> Any:
        try:
            item = next(self._stream)
        except StopIteration:
            self._finish(None, True)
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._observe(item)
        return item

    def _drained(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        for _ in self:
            pass
        result = method(*args, **kwargs)
        return self if result is self._stream else result

    def _texts(self, texts: Iterator[str]) -> Iterator[str]:
        try:
            yield from texts
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._finish(None, True)

    def __enter__(self) -> RecordedHelperStream:
        return self

    def __exit__(self, et: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._finish(None, False)


class RecordedAsyncHelperStream(_HelperStreamBase):
    """The async form of :class:`RecordedHelperStream`."""

    async def __aiter__(self) -> AsyncIterator[Any]:
        try:
            async for item in self._stream:
                self._observe(item)
                yield item
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._finish(None, True)

    async def __anext__(self) -> Any:
        try:
            item = await self._stream.__anext__()
        except StopAsyncIteration:
            self._finish(None, True)
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._observe(item)
        return item

    async def _drained(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async for _ in self:
            pass
        result = await method(*args, **kwargs)
        return self if result is self._stream else result

    async def _texts(self, texts: AsyncIterator[str]) -> AsyncIterator[str]:
        try:
            async for text in texts:
                yield text
        except GeneratorExit:
            raise
        except BaseException as exc:
            self._finish(exc, False)
            raise
        self._finish(None, True)

    async def __aenter__(self) -> RecordedAsyncHelperStream:
        return self

    async def __aexit__(self, et: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        await self.close()

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            self._finish(None, False)

    async def aclose(self) -> None:
        await self.close()
