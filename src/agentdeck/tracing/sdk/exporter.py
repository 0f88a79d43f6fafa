"""The exporter: a bounded queue drained by a background thread, and a second thread that
delivers to a :class:`SpanSink`, so a slow or hung destination never fills the queue.

The agent's thread only appends to a ``collections.deque`` (atomic under the GIL, no lock) and,
once a batch's worth is waiting, sets an event. Everything else happens in two daemon threads:

- the **drain** thread builds finished :class:`Span` objects from the recorder's pending
  records, snapshots user values to JSON data (orjson), applies the :class:`SpanLimits`
  (:mod:`agentdeck.tracing.sdk.limits`) and batches. It hands a batch to the sender while the
  hand-off holds fewer than ``queue_size`` items and the spill is empty; otherwise it appends the
  batch to the local spill file. It never does network I/O, so the queue keeps draining (at
  disk speed) whatever the destination does.
- the **send** thread delivers hand-off batches (through :class:`Delivery`: 413 split,
  dead-letter), then re-sends the spill with exponential backoff (``retry_initial`` ..
  ``retry_max``): the same process re-sends it once the destination is back, or at once on
  :meth:`flush`. A batch the sink fails to take is spilled with everything waiting behind it.
  Sinks are idempotent, so a partly delivered batch may be re-sent.

Overflow: with ``on_full="drop"`` (the default) the deque drops its oldest item when full; drops
are counted exactly (see :meth:`Exporter._appended`) and logged at most every
``report_interval``. With ``on_full="block"`` (bulk work, imports, benchmarks) the caller waits
for room instead (the drain thread spills when it cannot deliver, so the wait lasts as long as a
batch takes to reach the hand-off or the disk) and nothing is dropped.

:meth:`flush` returns a :class:`FlushResult`, falsy unless everything submitted so far was
delivered. Fork: the child gets a fresh queue, threads and spill file (``os.register_at_fork``);
items queued before the fork are the parent's to deliver. Nothing here raises into the agent.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk.delivery import Delivery
from agentdeck.tracing.sdk.exporter_types import (
    BatchHook,
    ExporterStats,
    FlushResult,
    Item,
    Pending,
)
from agentdeck.tracing.sdk.limits import SpanLimits, limit_run, limit_span
from agentdeck.tracing.sdk.sink import SpanSink
from agentdeck.tracing.sdk.spill import DeadLetterFile, SpillFile
from agentdeck.tracing.sdk.wire import to_json_data

log = logging.getLogger("agentdeck.tracing")

__all__ = ["BatchHook", "Exporter", "ExporterStats", "FlushResult", "Item", "Pending"]


@dataclass(frozen=True, slots=True)
class _Batch:
    runs: list[Run]
    spans: list[Span]

    @property
    def size(self) -> int:
        return len(self.runs) + len(self.spans)


@dataclass(frozen=True, slots=True)
class _Marker:
    """A flush waiter travelling through the hand-off behind the batches before it."""

    done: threading.Event


_STOP = _Marker(threading.Event())


class Exporter:
    """Queue + drain thread + send thread + spill. ``submit`` is all the hot path calls."""

    def __init__(
        self,
        sink: SpanSink,
        *,
        spill_dir: str | os.PathLike[str],
        queue_size: int = 4096,
        batch_size: int = 512,
        schedule_delay: float = 0.5,
        retry_initial: float = 0.5,
        retry_max: float = 30.0,
        report_interval: float = 10.0,
        redact: BatchHook | None = None,
        on_full: Literal["drop", "block"] = "drop",
        limits: SpanLimits | None = None,
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be positive")
        if on_full not in ("drop", "block"):
            raise ValueError(f"on_full must be 'drop' or 'block', not {on_full!r}")
        self.sink = sink
        self._redact = redact  # applied to each built batch before the sink or the spill
        self._spill_dir = Path(spill_dir)
        self._queue_size = queue_size
        self._batch_size = min(batch_size, queue_size)
        self._delay = schedule_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._report_interval = report_interval
        self._block = on_full == "block"
        self._limits = limits or SpanLimits()
        # More destinations fed by this drain thread (fanout.FanOut): each built, redacted
        # batch also goes to their hand-off or spill, for their own send thread to deliver.
        self.taps: tuple[Exporter, ...] = ()
        self._init_state()
        ref = weakref.WeakMethod(self._after_fork)

        def _child() -> None:
            method = ref()
            if method is not None:
                method()

        os.register_at_fork(after_in_child=_child)

    def _init_state(self) -> None:
        self._q: deque[Item] = deque() if self._block else deque(maxlen=self._queue_size)
        # Appends are counted with ``next()`` on an itertools.count (atomic under the GIL, no
        # lock). Reading the count also calls next(), so readers subtract their own reads.
        self._appended = itertools.count()
        self._reads = 0
        self._read_lock = threading.Lock()
        self._popped = 0
        self._wake = threading.Event()
        self._room = threading.Event()
        self._flush_waiters: list[threading.Event] = []
        self._stopping = self._rescued = False
        self._spill = SpillFile(self._spill_dir)
        self._delivery = Delivery(self.sink, self._limits, DeadLetterFile(self._spill_dir))
        self._hand: deque[_Batch | _Marker] = deque()
        self._hand_items = 0
        self._hand_cv = threading.Condition()
        self._inflight: _Batch | None = None
        self._retry_at = 0.0
        self._backoff = self._retry_initial
        self._failed = self._spilled = self._resent = self._lost = 0
        self._counts = threading.Lock()
        self._truncated = self._blocked = 0
        self._last_error: str | None = None
        self._reported_drops = 0
        self._last_report = 0.0
        self._thread = threading.Thread(target=self._run, name="agentdeck-exporter", daemon=True)
        self._sender = threading.Thread(
            target=self._send_loop, name="agentdeck-exporter-send", daemon=True
        )
        self._sender.start()
        self._thread.start()

    def _after_fork(self) -> None:
        self._init_state()

    # -- the hot path ------------------------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue a finished item. Never raises. When the queue is full: ``on_full="drop"``
        drops the oldest item; ``on_full="block"`` waits for the drain thread to make room."""
        q = self._q
        if self._block and len(q) >= self._queue_size:
            self._wait_for_room()
        q.append(item)
        next(self._appended)
        if len(q) >= self._batch_size and not self._wake.is_set():
            self._wake.set()  # takes a lock: only once per batch

    def _wait_for_room(self) -> None:
        self._blocked += 1
        while len(self._q) >= self._queue_size and self._thread.is_alive():
            self._room.clear()
            if len(self._q) < self._queue_size:
                return
            self._wake.set()
            self._room.wait(0.05)

    # -- control -----------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> FlushResult:
        """Deliver everything submitted so far and retry the spill once now.

        Returns when that is done or after ``timeout`` seconds (``timed_out``, e.g. a hung
        destination); the result is falsy unless everything was delivered.
        """
        if not self._thread.is_alive():
            return self.result(timed_out=bool(self._q))
        done = threading.Event()
        self._flush_waiters.append(done)
        self._wake.set()
        return self.result(timed_out=not done.wait(timeout))

    def result(self, *, timed_out: bool = False) -> FlushResult:
        s = self.stats()
        return FlushResult(
            delivered=s.exported_spans + s.exported_runs,
            spilled=s.spilled_items,
            dropped=s.dropped,
            dead_lettered=s.dead_lettered,
            lost=s.lost,
            pending=s.queued + s.in_memory,
            timed_out=timed_out,
        )

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Flush, stop both threads and close the spill; True if all that finished in time.

        If the destination hangs past ``timeout``, whatever still waits in memory is spilled
        (the next process using the spill directory re-sends it).
        """
        deadline = None if timeout is None else time.monotonic() + timeout

        def remaining() -> float | None:
            return None if deadline is None else max(0.0, deadline - time.monotonic())

        ok = not self.flush(timeout).timed_out
        self._stopping = True
        self._wake.set()
        self._thread.join(remaining())
        self._sender.join(remaining())
        if self._sender.is_alive():  # a hung send: keep what is still in memory on disk
            self._rescue()
        return ok and not self._thread.is_alive() and not self._sender.is_alive()

    def _rescue(self) -> None:
        self._rescued = True
        with self._hand_cv:
            batches = [b for b in self._hand if isinstance(b, _Batch)]
            self._hand.clear()
            self._hand_items = 0
        inflight = self._inflight
        if inflight is not None:
            batches.insert(0, inflight)  # may still arrive too: the sink is idempotent
        for b in batches:
            self._spill_batch(b, rescue=True)
        self._spill.close()

    def stats(self) -> ExporterStats:
        with self._read_lock:
            appended = next(self._appended) - self._reads
            self._reads += 1
        queued = len(self._q)
        inflight = self._inflight
        d = self._delivery
        return ExporterStats(
            submitted=appended,
            queued=queued,
            dropped=max(0, appended - self._popped - queued),
            exported_spans=d.exported_spans,
            exported_runs=d.exported_runs,
            failed_writes=self._failed,
            spilled_batches=self._spilled,
            resent_batches=self._resent,
            lost=self._lost + d.lost,
            spill_pending=self._spill.pending,
            last_error=self._last_error or d.last_refusal,
            spilled_items=self._spill.pending_items,
            in_memory=self._hand_items + (inflight.size if inflight is not None else 0),
            dead_lettered=d.dead_lettered,
            truncated=self._truncated + d.truncated,
            split_batches=d.splits,
            blocked_submits=self._blocked,
        )

    # -- the drain thread --------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            waiters, self._flush_waiters = self._flush_waiters, []
            stopping = self._stopping
            try:
                self._drain(len(self._q))
                self._report_drops()
            except Exception as exc:  # a bug here must not kill the worker
                self._last_error = f"exporter: {type(exc).__name__}: {exc}"
                log.exception("agentdeck: exporter error")
            for w in waiters:
                self._handoff(_Marker(w))
            if stopping:
                self._handoff(_STOP)
                return

    def _drain(self, n: int) -> None:
        q, popleft = self._q, self._q.popleft
        while n > 0:
            runs: list[Run] = []
            spans: list[Span] = []
            take = min(n, self._batch_size)
            for _ in range(take):
                try:
                    item = popleft()
                except IndexError:
                    n = 0
                    break
                self._popped += 1
                try:
                    if isinstance(item, Run):
                        run = _json_run(item)
                        runs.append(limit_run(run, self._limits))
                        self._truncated += runs[-1] is not run
                    else:
                        span = _json_span(item) if isinstance(item, Span) else item.to_span()
                        spans.append(limit_span(span, self._limits))
                        self._truncated += spans[-1] is not span
                except Exception as exc:
                    with self._counts:
                        self._lost += 1
                    self._last_error = f"building a span: {type(exc).__name__}: {exc}"
            self._room.set()
            n -= take
            if runs or spans:
                if self._redact is not None:
                    runs, spans = self._redact(runs, spans)
                batch = _Batch(runs, spans)
                self._dispatch(batch)
                for tap in self.taps:
                    tap._dispatch(batch)
            if not q:
                break

    def _dispatch(self, batch: _Batch) -> None:
        with self._hand_cv:
            room = not self._hand_items or self._hand_items + batch.size <= self._queue_size
            if room and not self._spill.pending:
                self._hand.append(batch)
                self._hand_items += batch.size
                self._hand_cv.notify()
                return
        self._spill_batch(batch)

    def _handoff(self, marker: _Marker) -> None:
        with self._hand_cv:
            self._hand.append(marker)
            self._hand_cv.notify()

    def _spill_batch(self, batch: _Batch, rescue: bool = False) -> None:
        if self._rescued and not rescue:
            return  # shut down past a hung send: the rescue already kept it on disk
        try:
            self._spill.append(batch.runs, batch.spans)
            with self._counts:  # both threads spill
                self._spilled += 1
        except Exception as exc:
            with self._counts:
                self._lost += batch.size
            self._last_error = f"spill: {type(exc).__name__}: {exc}"
            log.warning("agentdeck: cannot spill %d items: %s", batch.size, exc)

    def _report_drops(self) -> None:
        now = time.monotonic()
        if now - self._last_report < self._report_interval:
            return
        dropped = self.stats().dropped
        if dropped > self._reported_drops:
            log.warning(
                "agentdeck: telemetry queue full, dropped %d oldest spans (%d in all)",
                dropped - self._reported_drops,
                dropped,
            )
            self._reported_drops = dropped
            self._last_report = now

    # -- the send thread ---------------------------------------------------------------

    def _next(self) -> _Batch | _Marker | None:
        """The next hand-off item, or None when the spill's retry is due."""
        with self._hand_cv:
            while not self._hand:
                if self._spill.pending:
                    wait = self._retry_at - time.monotonic()
                    if wait <= 0:
                        return None
                    self._hand_cv.wait(min(wait, 1.0))
                else:
                    self._hand_cv.wait(1.0)
            item = self._hand.popleft()
            if isinstance(item, _Batch):
                self._hand_items -= item.size
                self._inflight = item
            return item

    def _send_loop(self) -> None:
        while True:
            item = self._next()
            try:
                if item is _STOP:
                    if self._spill.pending:
                        self._retry_spill(force=True)
                    self._spill.close()
                    return
                if item is None:
                    self._retry_spill(force=False)
                elif isinstance(item, _Marker):
                    self._retry_spill(force=True)
                    item.done.set()
                else:
                    self._send_batch(item)
            except Exception as exc:  # a bug here must not kill the sender
                self._last_error = f"exporter: {type(exc).__name__}: {exc}"
                log.exception("agentdeck: exporter error")
                if isinstance(item, _Marker):
                    item.done.set()
            finally:
                self._inflight = None

    def _send_batch(self, batch: _Batch) -> None:
        try:
            self._delivery.send(batch.runs, batch.spans)
            self._backoff = self._retry_initial
            return
        except Exception as exc:
            self._failed_now(exc)
        # Keep it, and what waits behind it, on disk until the destination is back.
        with self._hand_cv:
            behind = [b for b in self._hand if isinstance(b, _Batch)]
            markers = [m for m in self._hand if isinstance(m, _Marker)]
            self._hand = deque(markers)
            self._hand_items = 0
        for b in (batch, *behind):
            self._spill_batch(b)
        self._inflight = None

    def _failed_now(self, exc: BaseException) -> None:
        self._failed += 1
        self._last_error = f"sink: {type(exc).__name__}: {exc}"
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self._retry_max)

    def _retry_spill(self, *, force: bool) -> None:
        if not self._spill.pending and not force:
            return
        try:
            self._resent += self._spill.resend(self._delivery.send)
            self._backoff = self._retry_initial
        except Exception as exc:
            self._failed_now(exc)


def _json_span(span: Span) -> Span:
    return dataclasses.replace(
        span,
        inputs=to_json_data(span.inputs),
        outputs=to_json_data(span.outputs),
        attributes=to_json_data(span.attributes),
    )


def _json_run(run: Run) -> Run:
    return dataclasses.replace(
        run,
        input=to_json_data(run.input),
        output=to_json_data(run.output),
        attributes=to_json_data(run.attributes),
    )
