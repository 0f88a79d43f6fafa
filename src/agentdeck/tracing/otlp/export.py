"""Send agentdeck spans, as OTLP/HTTP protobuf, to any OpenTelemetry collector or backend.

:class:`OtlpExporter` is a *destination*: the SDK exporter's background thread hands it
batches and retries on ``False``. It does transport only (no queue, no thread, no retry loop,
following the OpenTelemetry SDK's split between exporters and processors) and it never raises:
a failure is logged and reported as ``False``, with the reason in :attr:`last_error`.
"""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterable, Mapping, Sequence

import httpx
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from agentdeck.core.errors import AgentDeckError
from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.otlp.map_out import spans_to_otlp
from agentdeck.tracing.otlp.values import JSON

__all__ = ["OtlpExporter"]

_log = logging.getLogger(__name__)
_TRACES_PATH = "/v1/traces"


class OtlpExporter:
    """POST spans as ``application/x-protobuf`` to ``<endpoint>/v1/traces``.

    ``endpoint`` is the collector's base URL (as ``OTEL_EXPORTER_OTLP_ENDPOINT``); a URL that
    already ends in ``/v1/traces`` is used as it is, and so is any URL with ``exact_url``
    (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``). ``headers`` go on every request (e.g. an
    API key). ``compression`` is ``"gzip"`` or None. ``transport`` is a seam for tests.
    """

    def __init__(
        self,
        endpoint: str,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        *,
        resource_attrs: Mapping[str, JSON] | None = None,
        compression: str | None = "gzip",
        transport: httpx.BaseTransport | None = None,
        exact_url: bool = False,
    ) -> None:
        if compression not in (None, "gzip"):
            raise ValueError(f"compression {compression!r}: only 'gzip' or None")
        base = endpoint.rstrip("/")
        self.url = base if exact_url or base.endswith(_TRACES_PATH) else base + _TRACES_PATH
        self.resource_attrs = resource_attrs
        self.compression = compression
        self.last_error: str | None = None
        self.rejected_spans = 0  # spans the backend reported rejected (partial success)
        send_headers = {"Content-Type": "application/x-protobuf", **(headers or {})}
        if compression:
            send_headers["Content-Encoding"] = compression
        self._client = httpx.Client(headers=send_headers, timeout=timeout, transport=transport)

    def export(self, spans: Iterable[Span], runs: Iterable[Run] = ()) -> bool:
        """Send one batch; True when the backend accepted it (2xx). Never raises."""
        spans = list(spans)
        if not spans:
            return True
        try:
            body = spans_to_otlp(spans, runs, self.resource_attrs).SerializeToString()
        except (AgentDeckError, ValueError, TypeError, KeyError) as exc:  # retrying won't help
            return self._fail(f"cannot encode batch: {exc}")
        if self.compression == "gzip":
            body = gzip.compress(body, compresslevel=6)
        try:
            response = self._client.post(self.url, content=body)
        except httpx.HTTPError as exc:
            return self._fail(f"POST {self.url}: {type(exc).__name__}: {exc}")
        if not response.is_success:
            return self._fail(f"POST {self.url}: HTTP {response.status_code} {response.text[:200]}")
        self._note_partial_success(response)
        self.last_error = None
        return True

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        """The :class:`~agentdeck.tracing.sdk.sink.SpanSink` seam: ``agentdeck.init(sink=...)``.

        The SDK's exporter redacts each batch before calling this; a failed export raises so
        that the exporter spills and retries it.
        """
        if not self.export(spans, runs):
            raise ConnectionError(self.last_error or "OTLP export failed")

    def _note_partial_success(self, response: httpx.Response) -> None:
        if not response.content or "protobuf" not in response.headers.get("content-type", ""):
            return
        reply = ExportTraceServiceResponse()
        try:
            reply.ParseFromString(response.content)
        except DecodeError:
            return
        rejected = reply.partial_success.rejected_spans
        if rejected:
            self.rejected_spans += rejected
            _log.warning(
                "OTLP backend rejected %d span(s): %s",
                rejected,
                reply.partial_success.error_message,
            )

    def _fail(self, reason: str) -> bool:
        self.last_error = reason
        _log.warning("OTLP export failed: %s", reason)
        return False

    def shutdown(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __enter__(self) -> OtlpExporter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
