"""Blocks without ``with``: :class:`Detached` starts a ``run``, ``llm`` or ``span`` now and ends it
later (a framework callback, the end of a stream), without it ever becoming the current span."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.recorder import SpanHandle

if TYPE_CHECKING:
    from agentdeck.tracing.sdk.scopes import llm, run, span


class Detached:
    """A ``run``, ``llm`` or ``span`` block started now and ended later, off the context.

    The public way for integrations to record steps that do not fit a ``with`` block: frameworks
    report steps as start/end callbacks, and provider SDKs hand back streams that the caller
    drains later. :meth:`start` opens the block's span under ``parent`` (default: the current
    span) *without* making it the current span, so the caller's context is never changed behind
    its back; :meth:`end` finishes it, exactly once even when called again or from several
    threads. The span is the one the ``with`` form records (a detached ``llm`` gets the same
    automatic data-flow links). Neither method raises: a telemetry failure is counted by
    :func:`agentdeck.tracing.sdk.recorder.internal_error`.

    ::

        d = Detached(llm(messages=msgs, model="gpt-4o-mini", provider="openai"))
        call = d.start()              # an LlmCall, or None when not recording
        ...                           # later, e.g. when the stream ends
        if call is not None:
            call.record(response)
        d.end(exc)                    # exc: the call's exception, or None
    """

    __slots__ = ("_cfg", "_once", "block", "handle")

    def __init__(self, block: run | llm | span) -> None:
        self.block = block
        self.handle: SpanHandle | None = None  # set by start() when recording
        self._cfg: rec.Config | None = None
        self._once = threading.Lock()  # acquired by the one end() that finishes the span

    def start(self, parent: SpanHandle | None = None) -> SpanHandle | None:
        """Open the span (once); its handle, or None when not recording (no init, no run)."""
        cfg = rec.config
        if cfg is None or self._cfg is not None:
            return self.handle
        block = self.block
        try:
            h = block._open(cfg, parent if parent is not None else rec.current.get())
        except Exception as exc:
            rec.internal_error(f"detached {type(block).__name__}", exc)
            return None
        if h is None:
            return None
        block._handle, block._cfg, self._cfg, self.handle = h, cfg, cfg, h
        return h

    @property
    def ended(self) -> bool:
        """True once :meth:`end` has finished the span."""
        return self._once.locked()

    def end(self, exc: BaseException | None = None) -> None:
        """Finish the span (``exc``: the step's error, if any); later calls do nothing."""
        cfg = self._cfg
        if cfg is None or not self._once.acquire(blocking=False):
            return
        try:
            self.block._close(cfg, exc)
        except Exception as err:
            rec.internal_error(f"detached {type(self.block).__name__}", err)
