"""Writing ingested runs and spans: one writer thread for SQLite, request threads for PostgreSQL.

SQLite allows one writer at a time, and a transaction per request would spend most of its time
on the lock and the commit. So, for SQLite, requests hand their batch to a bounded queue and
await a future; a single daemon thread takes everything queued (up to ``max_batch_spans``),
writes it in one transaction, and resolves the futures. A request is answered only after its
spans are committed, so a client that got a 2xx never has to re-send (and one that did not
re-sends, which is harmless: writes are idempotent by span id). When the queue is full the
request is refused at once with :class:`IngestBusy` (HTTP 503 with ``Retry-After``): the
exporter spills and retries rather than the server buffering without bound.

PostgreSQL takes concurrent writers, so there each request writes from its own worker thread.

Provisional runs (the OTLP receiver's stand-ins for traces seen only through child spans: see
:mod:`agentdeck.tracing.otlp.decode`) travel with their request's batch and are merged in the
same transaction (:meth:`~agentdeck.store.sql_traces.SqlTraces.write_batch`).

``on_stored`` (optional) is called with the runs of every committed batch, just before the
requests are answered (the server queues them there for per-run checks and online evaluators,
run later by another thread: see :mod:`agentdeck.server.post_ingest`); it must not block, and
its errors are logged, never reported to the client. Provisional runs are not passed to it: they
are partial by definition (checked now, they would be flagged as ending without output), and the
real run that replaces them is. A trace whose root never arrives is still summarized for window
checks and baselines by their back-fill.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from agentdeck.core.errors import StoreError
from agentdeck.core.trace.model import Run, Span
from agentdeck.server.worker import Worker
from agentdeck.store.protocol import TraceStore

log = logging.getLogger("agentdeck.server.ingest")


class IngestBusy(StoreError):
    """The ingest queue is full; the client should retry after ``retry_after`` seconds."""

    http_status = 503

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__("ingest queue is full; retry later")


@dataclass(slots=True)
class _Item:
    runs: Sequence[Run]
    spans: Sequence[Span]
    provisional: Sequence[Run]
    done: Future[None]


@dataclass
class WriterStats:
    requests: int = 0
    spans: int = 0
    transactions: int = 0
    refused: int = 0


class IngestWriter:
    """Commits batches; ``single_writer=True`` (SQLite) funnels them through one thread."""

    def __init__(
        self,
        store: TraceStore,
        *,
        single_writer: bool,
        max_pending: int = 512,
        max_batch_spans: int = 8192,
        retry_after: int = 1,
        on_stored: Callable[[Sequence[Run]], None] | None = None,
        on_written: Callable[[Sequence[Run], Sequence[Span]], None] | None = None,
    ) -> None:
        self.store = store
        self.on_stored = on_stored
        self.on_written = on_written  # every committed request's runs and spans (forwarding)
        self.single_writer = single_writer
        self.max_batch_spans = max_batch_spans
        self.retry_after = retry_after
        self.stats = WriterStats()
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=max_pending)
        self._worker = Worker("agentdeck-ingest-writer", self._run,
                              wake=lambda: self._queue.put(None))  # fmt: skip
        self._lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self.single_writer:
            self._worker.start()

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the thread."""
        self._worker.close(timeout)

    # -- writing ---------------------------------------------------------------------------

    async def write(
        self, runs: Sequence[Run], spans: Sequence[Span], provisional: Sequence[Run] = ()
    ) -> None:
        """Return once ``runs``, ``spans`` and ``provisional`` runs are committed; raise
        :class:`IngestBusy` if full."""
        if not runs and not spans and not provisional:
            return
        if not self.single_writer:
            await run_in_threadpool(self.store.write_batch, runs, spans, provisional=provisional)
            self._count(1, len(spans), 1)
            self._stored(runs)
            self._written(runs, spans)
            return
        if not self._worker.running:
            raise StoreError("ingest writer is not running")
        item = _Item(runs, spans, provisional, Future())
        item.done.set_running_or_notify_cancel()  # a client hang-up cannot cancel it now
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.stats.refused += 1
            raise IngestBusy(self.retry_after) from None
        await asyncio.wrap_future(item.done)
        self._written(runs, spans)

    def _count(self, requests: int, spans: int, transactions: int) -> None:
        with self._lock:
            self.stats.requests += requests
            self.stats.spans += spans
            self.stats.transactions += transactions

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            items = [first]
            n = len(first.spans)
            while n < self.max_batch_spans:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
                n += len(nxt.spans)
            self._commit(items, n)

    def _commit(self, items: list[_Item], n_spans: int) -> None:
        runs = [r for it in items for r in it.runs]
        spans = [s for it in items for s in it.spans]
        provisional = [r for it in items for r in it.provisional]
        try:
            self.store.write_batch(runs, spans, provisional=provisional)
        except Exception:
            if len(items) == 1:
                log.exception("ingest write failed")
                self._fail(items[0])
                return
            # One bad request must not fail the others: write them one by one.
            for it in items:
                try:
                    self.store.write_batch(it.runs, it.spans, provisional=it.provisional)
                except Exception:
                    log.exception("ingest write failed")
                    self._fail(it)
                else:
                    self._count(1, len(it.spans), 1)
                    self._stored(it.runs)
                    it.done.set_result(None)
            return
        self._count(len(items), n_spans, 1)
        self._stored(runs)
        for it in items:
            it.done.set_result(None)

    def _stored(self, runs: Sequence[Run]) -> None:
        if self.on_stored is None or not runs:
            return
        try:
            self.on_stored(runs)
        except Exception:  # monitoring must never fail (or stall) an ingest
            log.exception("after-ingest hook failed")

    def _written(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        if self.on_written is None:
            return
        try:
            self.on_written(runs, spans)
        except Exception:  # forwarding must never fail an ingest
            log.exception("after-write hook failed")

    @staticmethod
    def _fail(item: _Item) -> None:
        item.done.set_exception(StoreError("the store refused the batch; see the server log"))
