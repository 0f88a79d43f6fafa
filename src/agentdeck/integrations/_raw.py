"""Recording ``with_raw_response`` / ``with_streaming_response`` calls of a patched method.

Both SDKs build these on the method :func:`~agentdeck.integrations._provider.patch_create`
replaced: ``client.chat.completions.with_raw_response.create(...)`` calls the instance's
``create`` with a marker header, and the SDK then returns its HTTP response wrapper
(``LegacyAPIResponse`` for OpenAI's ``with_raw_response``, ``APIResponse`` /
``AsyncAPIResponse`` otherwise) instead of the typed answer. Every wrapper has the public
``parse()``, which builds the typed answer and caches it per requested type: the caller's own
``parse()`` later returns the very same object, and ``headers`` / ``http_response`` are left as
they were. So the answer is read through ``parse()`` only, and only when reading it costs the
caller nothing:

- body already read (``with_raw_response`` without ``stream=True``: the SDK reads it before
  returning): ``parse()`` now, record the answer, end the span, hand back the SDK's own object;
- body not read yet (``with_streaming_response``, or ``stream=True``): reading it is the
  caller's business, so the object is handed back behind :class:`RecordedRawResponse`, which
  records what the caller reads. A stream from its ``parse()`` is wrapped like a ``stream=True``
  stream and ends the span when it ends; a plain answer the caller parsed (or whose body it read)
  is recorded when the response is closed (leaving the ``with`` block) or collected; an answer
  nobody read leaves the span with the request and the HTTP status only.

Every such span carries ``llm.raw_response = true`` and ``llm.http_status``.
"""

from __future__ import annotations

import inspect
import threading
from typing import TYPE_CHECKING, Any

from agentdeck.integrations._streams import RecordedAsyncStream, RecordedStream
from agentdeck.tracing.sdk import recorder as rec

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from agentdeck.integrations._provider import ProviderCall

_UNSET: Any = object()


def is_raw_response(result: Any) -> bool:
    """Whether ``result`` is an SDK HTTP response wrapper rather than a typed answer."""
    return hasattr(result, "http_response") and callable(getattr(result, "parse", None))


def body_read(raw: Any) -> bool:
    """Whether the response body is already in memory (so ``parse()`` does no I/O).

    The HTTP response's public ``content`` raises ``ResponseNotRead`` until the body is read.
    """
    try:
        raw.http_response.content  # noqa: B018 - the probe is the point
    except Exception:
        return False
    return True


def _prepare(call: ProviderCall, raw: Any) -> bool:
    """Note the raw response on ``call``; True when its answer can be parsed now."""
    call.extra["llm.raw_response"] = True
    try:
        call.extra["llm.http_status"] = int(raw.status_code)
    except Exception as exc:
        rec.internal_error(f"{call.provider} raw response", exc)
    return not call.streaming and body_read(raw)


def wrap(call: ProviderCall, raw: Any) -> Any:
    """The sync client's raw response, recorded (now, or behind a proxy when unread)."""
    if not _prepare(call, raw):
        return RecordedRawResponse(raw, RawEnd(call))
    try:
        parsed = raw.parse()
    except Exception as exc:  # the caller's own parse() will raise it again
        call.fail(exc)
        return raw
    if inspect.isawaitable(parsed):  # an async response from a sync call: not expected
        _discard(parsed)
        call.end_bare()
    else:
        call.record(parsed)
    return raw


async def wrap_async(call: ProviderCall, raw: Any) -> Any:
    """The async form of :func:`wrap` (``AsyncAPIResponse.parse()`` is a coroutine)."""
    if not _prepare(call, raw):
        return RecordedRawResponse(raw, RawEnd(call))
    try:
        parsed = raw.parse()
        if inspect.isawaitable(parsed):
            parsed = await parsed  # the body is in memory: no I/O
    except Exception as exc:
        call.fail(exc)
        return raw
    except BaseException as exc:  # cancelled while parsing: the caller's task is going away
        call.fail(exc)
        raise
    call.record(parsed)
    return raw


def _discard(pending: Any) -> None:
    close = getattr(pending, "close", None)
    if callable(close):
        close()  # a coroutine never awaited would warn in the caller's name


class RawEnd:
    """Ends one raw response's span exactly once, with what the caller read of it.

    Shared by the response proxy and the stream proxy it may hand out (the stream proxy holds
    this object, never the response proxy, so dropping either one is seen at once).
    """

    def __init__(self, call: ProviderCall) -> None:
        self.call = call
        self.value: Any = _UNSET  # the answer the caller's parse() returned, if any
        self._once = threading.Lock()

    def _claim(self) -> bool:
        return self._once.acquire(blocking=False)

    def stream_end(self, exc: BaseException | None, complete: bool) -> None:
        if self._claim():
            self.call.stream_end(exc, complete)

    def fail(self, exc: BaseException) -> None:
        if self._claim():
            self.call.fail(exc)

    def finish(self, value: Any) -> None:
        """End with ``value`` (an answer) or, when it is unset, with the request only."""
        if not self._claim():
            return
        if value is _UNSET:
            self.call.end_bare()
        else:
            self.call.record(value)


class RecordedRawResponse:
    """A raw response whose body the caller has not read yet; same attributes, same results.

    ``parse()`` returns the SDK's own answer (a stream comes back wrapped, as with
    ``stream=True``, and the same wrapper on every call); ``close()`` (which leaving a
    ``with_streaming_response`` block calls) closes the response and ends the span. Everything
    else (``headers``, ``http_response``, ``status_code``, ``read()``, ``iter_lines()``...) is
    the SDK object's.
    """

    def __init__(self, raw: Any, end: RawEnd) -> None:
        self._raw = raw
        self._end = end
        self._stream: RecordedStream | RecordedAsyncStream | None = None
        self._source: Any = None  # the SDK stream behind self._stream

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._raw, name)

    def __repr__(self) -> str:
        return repr(self._raw)

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        default = not args and kwargs.get("to") is None  # the answer type, not the caller's own
        try:
            out = self._raw.parse(*args, **kwargs)
        except BaseException as exc:
            self._end.fail(exc)
            raise
        if inspect.isawaitable(out):
            return self._parse_async(out, default)
        return self._took(out, default)

    async def _parse_async(self, pending: Awaitable[Any], default: bool) -> Any:
        try:
            out = await pending
        except BaseException as exc:
            self._end.fail(exc)
            raise
        return self._took(out, default)

    def _took(self, value: Any, default: bool) -> Any:
        if not default:
            return value
        try:
            return self._keep(value)
        except Exception as exc:
            rec.internal_error(f"{self._end.call.provider} raw response", exc)
            return value

    def _keep(self, value: Any) -> Any:
        """Note a parsed answer; a stream is wrapped (once) so it ends the span when it ends."""
        call = self._end.call
        if not isinstance(value, call.stream_types):
            if self._end.value is _UNSET:
                self._end.value = value
            return value
        if self._stream is None:
            proxy = RecordedAsyncStream if hasattr(value, "__aiter__") else RecordedStream
            self._source, self._stream = value, proxy(value, call.observe, self._end.stream_end)
        return self._stream if value is self._source else value

    def close(self) -> Any:
        out = self._raw.close()  # LegacyAPIResponse has none: the same AttributeError as the SDK's
        if inspect.isawaitable(out):
            return self._close_async(out)
        value = self._read_now()
        if inspect.isawaitable(value):  # an async response closed synchronously: not expected
            _discard(value)
            value = _UNSET
        self._closed(value)
        return out

    async def _close_async(self, pending: Awaitable[Any]) -> Any:
        try:
            return await pending
        finally:
            value = self._read_now()
            if inspect.isawaitable(value):
                try:
                    value = await value  # the body is in memory: no I/O
                except Exception:
                    value = _UNSET
            self._closed(value)

    def _read_now(self) -> Any:
        """The answer to record at close: the caller's parsed one, or parsed from a body it read.

        May be an awaitable (async responses); _UNSET when there is nothing the caller read.
        """
        end = self._end
        if end.value is not _UNSET or self._stream is not None or end.call.streaming:
            return end.value
        try:
            return self._raw.parse() if body_read(self._raw) else _UNSET
        except Exception:  # the caller never parsed it: not an error they saw
            return _UNSET

    def _closed(self, value: Any) -> None:
        try:
            if self._stream is not None:
                self._stream._finish(None, False)  # a no-op when the stream already ended
            else:
                self._end.finish(value)
        except Exception as exc:
            rec.internal_error(f"{self._end.call.provider} raw response", exc)

    def __del__(self) -> None:  # dropped without close(): record what was read
        end = self.__dict__.get("_end")
        if end is None or self.__dict__.get("_stream") is not None:
            return  # the stream handed out ends the span
        try:
            end.finish(end.value)
        except Exception as exc:
            rec.internal_error(f"{end.call.provider} raw response", exc)
