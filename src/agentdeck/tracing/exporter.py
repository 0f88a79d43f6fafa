"""The exporter: a bounded queue drained by one background thread into a :class:`SpanSink`.

The agent's thread only appends to a ``collections.deque(maxlen=...)`` (atomic under the GIL,
no lock) and, once a batch's worth is waiting, sets an event. Everything else happens in the
worker thread: building the finished :class:`Span` from the recorder's pending record, snapshotting
user values to JSON data (orjson), batching, delivery, spilling and retrying. Nothing here ever
raises into the agent's code.

- Overflow: the deque drops its oldest item when full. Drops are counted exactly (see
  :meth:`Exporter._appended`) and logged by the worker at most every ``report_interval``.
- Failure: a batch the sink refuses is appended to the local spill file; while the spill holds
  batches, new batches go there too (order kept); the spill is re-sent with exponential backoff,
  or at once on :meth:`flush`. Sinks are idempotent, so a partly delivered batch may be re-sent.
- ``flush(timeout)`` returns once everything submitted before it was delivered or spilled;
  ``shutdown(timeout)`` flushes, stops the thread and closes the spill.
- Fork: the child gets a fresh queue, worker and spill file (``os.register_at_fork``); items
  queued before the fork are the parent's to deliver.
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from agentdeck.core.trace import Run, Span
from agentdeck.tracing.sink import SpanSink
from agentdeck.tracing.spill import SpillFile
from agentdeck.tracing.wire import to_json_data

log = logging.getLogger("agentdeck.tracing")


class Pending(Protocol):
    """A finished span not yet built: ``to_span()`` runs in the worker thread."""

    def to_span(self) -> Span: ...


#: Applied by the worker to each built batch before delivery (redaction): never raises.
BatchHook = Callable[[list[Run], list[Span]], tuple[list[Run], list[Span]]]

#: What the recorder submits: a finished Span or Run, or a :class:`Pending` span.
Item = Span | Run | Pending


@dataclass(frozen=True, slots=True)
class ExporterStats:
    """Counters since the exporter started (exact once the queue is quiet)."""

    submitted: int
    queued: int
    dropped: int  # oldest items dropped because the queue was full
    exported_spans: int
    exported_runs: int
    failed_writes: int  # sink calls that raised
    spilled_batches: int
    resent_batches: int
    lost: int  # items that could neither be delivered nor spilled, or failed to build
    spill_pending: bool
    last_error: str | None


class Exporter:
    """Queue + worker thread + spill. ``submit`` is the only method the hot path calls."""

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
    ) -> None:
        if queue_size < 1 or batch_size < 1:
            raise ValueError("queue_size and batch_size must be positive")
        self.sink = sink
        self._redact = redact  # applied to each built batch before the sink or the spill
        self._spill_dir = Path(spill_dir)
        self._queue_size = queue_size
        self._batch_size = min(batch_size, queue_size)
        self._delay = schedule_delay
        self._retry_initial = retry_initial
        self._retry_max = retry_max
        self._report_interval = report_interval
        self._init_state()
        ref = weakref.WeakMethod(self._after_fork)

        def _child() -> None:
            method = ref()
            if method is not None:
                method()

        os.register_at_fork(after_in_child=_child)

    def _init_state(self) -> None:
        self._q: deque[Item] = deque(maxlen=self._queue_size)
        # Appends are counted with ``next()`` on an itertools.count (atomic under the GIL, no
        # lock). Reading the count also calls next(), so readers subtract their own reads.
        self._appended = itertools.count()
        self._reads = 0
        self._read_lock = threading.Lock()
        self._popped = 0
        self._wake = threading.Event()
        self._flush_waiters: list[threading.Event] = []
        self._stopping = False
        self._spill = SpillFile(self._spill_dir)
        self._retry_at = 0.0
        self._backoff = self._retry_initial
        self._force_retry = False
        self._exported_spans = self._exported_runs = self._failed = 0
        self._spilled = self._resent = self._lost = 0
        self._last_error: str | None = None
        self._reported_drops = 0
        self._last_report = 0.0
        self._thread = threading.Thread(target=self._run, name="agentdeck-exporter", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        self._init_state()

    # -- the hot path ------------------------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue a finished item. Never blocks, never raises (the oldest item goes if full)."""
        q = self._q
        q.append(item)
        next(self._appended)
        if len(q) >= self._batch_size and not self._wake.is_set():
            self._wake.set()  # takes a lock: only once per batch

    # -- control -----------------------------------------------------------------------

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Deliver (or spill) everything submitted so far and retry the spill once now.

        Returns False if that did not finish within ``timeout`` seconds (e.g. a hung sink).
        """
        if not self._thread.is_alive():
            return not self._q
        done = threading.Event()
        self._flush_waiters.append(done)
        self._force_retry = True
        self._wake.set()
        return done.wait(timeout)

    def shutdown(self, timeout: float | None = 5.0) -> bool:
        """Flush, stop the worker and close the spill; True if all that finished in time."""
        deadline = None if timeout is None else time.monotonic() + timeout
        ok = self.flush(timeout)
        self._stopping = True
        self._wake.set()
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        self._thread.join(remaining)
        return ok and not self._thread.is_alive()

    def stats(self) -> ExporterStats:
        with self._read_lock:
            appended = next(self._appended) - self._reads
            self._reads += 1
        queued = len(self._q)
        return ExporterStats(
            submitted=appended,
            queued=queued,
            dropped=max(0, appended - self._popped - queued),
            exported_spans=self._exported_spans,
            exported_runs=self._exported_runs,
            failed_writes=self._failed,
            spilled_batches=self._spilled,
            resent_batches=self._resent,
            lost=self._lost,
            spill_pending=self._spill.pending,
            last_error=self._last_error,
        )

    # -- the worker --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self._delay)
            self._wake.clear()
            waiters, self._flush_waiters = self._flush_waiters, []
            try:
                self._drain(len(self._q))
                self._maybe_resend()
                self._report_drops()
            except Exception as exc:  # a bug here must not kill the worker
                self._last_error = f"exporter: {type(exc).__name__}: {exc}"
                log.exception("agentdeck: exporter error")
            for w in waiters:
                w.set()
            if self._stopping:
                self._drain(len(self._q))
                self._spill.close()
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
                    if isinstance(item, Span):
                        spans.append(_json_span(item))
                    elif isinstance(item, Run):
                        runs.append(_json_run(item))
                    else:
                        spans.append(item.to_span())
                except Exception as exc:
                    self._lost += 1
                    self._last_error = f"building a span: {type(exc).__name__}: {exc}"
            n -= take
            if runs or spans:
                if self._redact is not None:
                    runs, spans = self._redact(runs, spans)
                self._deliver(runs, spans)
            if not q:
                break

    def _deliver(self, runs: list[Run], spans: list[Span]) -> None:
        if not self._spill.pending:
            try:
                self.sink.write_batch(runs, spans)
                self._exported_spans += len(spans)
                self._exported_runs += len(runs)
                return
            except Exception as exc:
                self._failed += 1
                self._last_error = f"sink: {type(exc).__name__}: {exc}"
                self._retry_at = time.monotonic() + self._backoff
        try:
            self._spill.append(runs, spans)
            self._spilled += 1
        except Exception as exc:
            self._lost += len(runs) + len(spans)
            self._last_error = f"spill: {type(exc).__name__}: {exc}"
            log.warning("agentdeck: cannot spill %d items: %s", len(runs) + len(spans), exc)

    def _maybe_resend(self) -> None:
        force, self._force_retry = self._force_retry, False
        if not self._spill.pending and not force:
            return
        if not force and time.monotonic() < self._retry_at:
            return
        try:
            self._resent += self._spill.resend(self.sink)
            self._backoff = self._retry_initial
        except Exception as exc:
            self._failed += 1
            self._last_error = f"sink: {type(exc).__name__}: {exc}"
            self._backoff = min(self._backoff * 2, self._retry_max)
            self._retry_at = time.monotonic() + self._backoff

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
