"""Forwarding what the server stores to an OTLP/HTTP collector (``AGENTDECK_FORWARD_OTLP_*``).

After a batch (from ``/api/v1/ingest`` or ``/v1/traces``) is committed, the ingest writer
hands its runs and spans, as stored (redacted), to :meth:`OtlpForwarder.submit`: a
``put_nowait`` on a bounded queue, so the request never waits for the collector. One worker
thread sends each batch as OTLP protobuf (:class:`~agentdeck.tracing.otlp.export.OtlpExporter`:
GenAI names, the run stamp). Nothing here can fail or slow an ingest: a full queue drops the
batch, a failed send is not retried (the server is not a spill), and both are counted
(:class:`ForwardStats`, and ``agentdeck_otlp_forward_spans_total{result=...}`` on ``/metrics``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from prometheus_client import Counter

from agentdeck.core.trace.model import Run, Span
from agentdeck.monitor.metrics import REGISTRY
from agentdeck.server.worker import Worker
from agentdeck.tracing.otlp.export import OtlpExporter

__all__ = ["ForwardStats", "OtlpForwarder"]

log = logging.getLogger("agentdeck.server")

FORWARDED = Counter(
    "agentdeck_otlp_forward_spans",
    "Spans the server forwarded to the OTLP collector: sent, dropped (queue full) or failed.",
    ["result"],
    registry=REGISTRY,
)


@dataclass
class ForwardStats:
    sent_spans: int = 0
    dropped_spans: int = 0  # the queue was full
    failed_spans: int = 0  # the collector refused or could not be reached
    last_error: str | None = None


_Batch = tuple[Sequence[Run], Sequence[Span]]


class OtlpForwarder:
    """A bounded queue of stored batches and one thread sending them to ``endpoint``."""

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        *,
        max_pending: int = 256,
        timeout: float = 10.0,
    ) -> None:
        self.exporter = OtlpExporter(
            endpoint, headers, timeout, resource_attrs={"service.name": "agentdeck-server"}
        )
        self.stats = ForwardStats()
        self._lock = threading.Lock()
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=max_pending)
        self._worker = Worker("agentdeck-otlp-forward", self._run,
                              wake=lambda: self._queue.put(None))  # fmt: skip

    def start(self) -> None:
        self._worker.start()

    def close(self, timeout: float = 10.0) -> None:
        """Send what is queued (up to ``timeout``), then stop the thread and the client."""
        self._worker.close(timeout)
        self.exporter.shutdown()

    def submit(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        """Queue a stored batch; never blocks, never raises (a full queue drops and counts)."""
        if not spans:
            return  # OTLP carries runs on their spans only
        try:
            self._queue.put_nowait((tuple(runs), tuple(spans)))
        except queue.Full:
            self._count(dropped=len(spans))

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is sent or failed (tests); True if done."""
        done = threading.Event()

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                runs, spans = item
                try:
                    ok = self.exporter.export(spans, runs)
                except Exception as exc:
                    log.exception("OTLP forward failed")
                    ok, self.stats.last_error = False, f"{type(exc).__name__}: {exc}"
                if ok:
                    self._count(sent=len(spans))
                else:
                    self._count(failed=len(spans), error=self.exporter.last_error)
            finally:
                self._queue.task_done()

    def _count(
        self, *, sent: int = 0, dropped: int = 0, failed: int = 0, error: str | None = None
    ) -> None:
        with self._lock:
            self.stats.sent_spans += sent
            self.stats.dropped_spans += dropped
            self.stats.failed_spans += failed
            if error:
                self.stats.last_error = error
        for result, n in (("sent", sent), ("dropped", dropped), ("failed", failed)):
            if n:
                FORWARDED.labels(result).inc(n)
