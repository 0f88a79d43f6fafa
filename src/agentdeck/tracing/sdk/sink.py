"""Where finished runs and spans go: the :class:`SpanSink` seam and two implementations.

The exporter's background thread is the only caller of a sink. A sink does transport only (the
exporter does timing, batching, spilling and retrying). ``write_batch`` must be idempotent: a
span already stored (same ``trace_id`` and ``span_id``) is not stored again, and a run already
stored (same ``trace_id``) is not duplicated, because after a failure the exporter re-sends
batches that may have been partly delivered.

- :class:`InMemorySink` keeps everything in memory with exactly that de-duplication; it is the
  test double shipped with the package (like OpenTelemetry's ``InMemorySpanExporter``).
- :class:`HttpSink` POSTs the wire format (:mod:`agentdeck.tracing.sdk.wire`) to a server's
  ``/api/v1/ingest`` route.
- The SQL store implements the protocol itself (embedded mode).
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from agentdeck.core.errors import StoreError
from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk.wire import batch_to_bytes

if TYPE_CHECKING:
    import httpx


#: Answers that re-sending the same batch cannot fix (413 is split first, then dead-lettered).
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 413, 422})


class SinkRejected(StoreError):
    """The destination answered and refused the batch with ``status``.

    ``permanent`` (a 4xx in :data:`PERMANENT_STATUSES`): re-sending will not help, the exporter
    splits a 413 and moves the rest to the dead-letter file. Any other status (5xx, 408, 429)
    and any other exception are retried.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT_STATUSES


@runtime_checkable
class SpanSink(Protocol):
    """Stores batches of finished runs and spans; idempotent by span id and trace id.

    Raise any exception to signal failure: the exporter spills the batch and re-sends it later.

    A sink whose class sets ``raw_json = True`` receives payloads as captured: values may be
    :class:`~agentdeck.core.trace.raw_json.Frozen` JSON bytes (anywhere inside ``inputs``,
    ``outputs``, ``attributes``), which ``agentdeck.tracing.sdk.wire.dumps`` writes as they are.
    Any other sink receives JSON data only (the exporter parses the bytes for it).
    """

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None: ...


class InMemorySink:
    """Keeps runs and spans in memory, de-duplicated exactly as the store does (first wins).

    Thread-safe. ``duplicate_spans`` counts re-sent spans that were ignored, so tests can assert
    that a re-send happened and that nothing was stored twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: dict[tuple[str, str], Span] = {}
        self._runs: dict[str, Run] = {}
        self.batches = 0
        self.duplicate_spans = 0

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        with self._lock:
            self.batches += 1
            for s in spans:
                key = (s.trace_id, s.span_id)
                if key in self._spans:
                    self.duplicate_spans += 1
                else:
                    self._spans[key] = s
            for r in runs:
                self._runs.setdefault(r.trace_id, r)

    @property
    def spans(self) -> list[Span]:
        """Stored spans in arrival order."""
        with self._lock:
            return list(self._spans.values())

    @property
    def runs(self) -> list[Run]:
        with self._lock:
            return list(self._runs.values())

    def run(self, trace_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(trace_id)

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace, ordered by ``seq`` (the order they started in)."""
        with self._lock:
            out = [s for s in self._spans.values() if s.trace_id == trace_id]
        return sorted(out, key=lambda s: (s.seq, s.start_ns))

    def clear(self) -> None:
        with self._lock:
            self._spans.clear()
            self._runs.clear()
            self.batches = 0
            self.duplicate_spans = 0


class HttpSink:
    """POSTs each batch as JSON to ``{endpoint}/api/v1/ingest`` with a bearer API key.

    Bodies of ``gzip_min_bytes`` or more are sent gzip-compressed (``Content-Encoding: gzip``).
    A transport error raises :class:`StoreError`, a non-2xx answer :class:`SinkRejected` with
    its status (both name the endpoint); the exporter retries, splits or dead-letters. Every
    phase of a request is bounded by ``timeout`` seconds (connect by ``min(timeout, 3)``), so a
    hung server costs the exporter's sender thread at most that, never the agent's thread.
    The HTTP client is created on first use, in the exporter's thread: constructing a sink does
    no I/O.
    """

    raw_json = True  # the wire format embeds captured JSON bytes as they are

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        timeout: float = 5.0,
        gzip_min_bytes: int = 1024,
    ) -> None:
        self.url = endpoint.rstrip("/") + "/api/v1/ingest"
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._gzip_min = gzip_min_bytes
        self._client: httpx.Client | None = None

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        import httpx  # imported here: keeps ``import agentdeck`` light

        if self._client is None:
            t = self._timeout
            self._client = httpx.Client(timeout=httpx.Timeout(t, connect=min(t, 3.0)))
        body = batch_to_bytes(runs, spans)
        headers = self._headers
        if len(body) >= self._gzip_min:
            body = gzip_bytes(body)
            headers = {**headers, "Content-Encoding": "gzip"}
        try:
            resp = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise StoreError(f"ingest {self.url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code // 100 != 2:
            raise SinkRejected(
                f"ingest {self.url}: HTTP {resp.status_code}: {resp.text[:200]}",
                resp.status_code,
            )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def gzip_bytes(data: bytes, level: int = 1) -> bytes:
    """``data`` as one gzip member (level 1: JSON still shrinks ~5-10x, at a small CPU cost)."""
    c = zlib.compressobj(level, zlib.DEFLATED, 31)
    return c.compress(data) + c.flush()
