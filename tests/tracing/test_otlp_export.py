"""OtlpExporter against a real HTTP server on 127.0.0.1 that decodes what it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.tracing.otlp.decode import DecodeResult, decode_otlp
from agentdeck.tracing.otlp.export import OtlpExporter

T = "4bf92f3577b34da6a3ce929d0e0e4736"


class _Collector(HTTPServer):
    received: list[tuple[str, dict[str, str], DecodeResult]]
    reply_status: int = 200
    reject: int = 0


class _Handler(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        result = decode_otlp(
            body, self.headers["Content-Type"], self.headers.get("Content-Encoding")
        )
        self.server.received.append((self.path, dict(self.headers), result))
        reply = ExportTraceServiceResponse()
        if self.server.reject:
            reply.partial_success.rejected_spans = self.server.reject
            reply.partial_success.error_message = "too old"
        payload = reply.SerializeToString()
        self.send_response(self.server.reply_status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector(("127.0.0.1", 0), _Handler)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _batch() -> tuple[list[Span], Run]:
    root = Span(T, "00f067aa0ba902b7", None, "bot", SpanKind.AGENT, 1, 9, 0, SpanStatus.OK,
                attributes={"agent.name": "bot"})  # fmt: skip
    tool = Span(T, "00f067aa0ba902b8", root.span_id, "search", SpanKind.TOOL, 2, 3, 1,
                inputs={"args": {"q": "x"}}, outputs={"result": [1, 2]}, attributes={"tool.name": "search"})  # fmt: skip
    run = Run(T, "bot", 2, "sha256:00", "dev", None, 1, 9, SpanStatus.OK, root_span_id=root.span_id)
    return [root, tool], run


def _url(server: _Collector) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_export_posts_protobuf_the_collector_decodes(collector: _Collector) -> None:
    spans, run = _batch()
    with OtlpExporter(_url(collector), headers={"x-api-key": "k"}, timeout=5) as exporter:
        assert exporter.export(spans, [run]) is True
    ((path, headers, result),) = collector.received
    assert path == "/v1/traces"
    assert (
        headers["Content-Type"] == "application/x-protobuf"
        and headers["Content-Encoding"] == "gzip"
    )
    assert headers["x-api-key"] == "k"
    assert list(result.spans) == spans and result.runs == (run,)


def test_export_without_compression_and_full_traces_url(collector: _Collector) -> None:
    spans, _ = _batch()
    exporter = OtlpExporter(_url(collector) + "/v1/traces", compression=None)
    assert exporter.export(spans) is True
    exporter.shutdown()
    ((path, headers, result),) = collector.received
    assert path == "/v1/traces" and "Content-Encoding" not in headers
    assert len(result.spans) == 2


def test_export_reports_http_failure_as_false(collector: _Collector) -> None:
    collector.reply_status = 503
    spans, _ = _batch()
    with OtlpExporter(_url(collector)) as exporter:
        assert exporter.export(spans) is False
        assert exporter.last_error is not None and "503" in exporter.last_error


def test_export_counts_partial_success_rejections(collector: _Collector) -> None:
    collector.reject = 1
    spans, _ = _batch()
    with OtlpExporter(_url(collector)) as exporter:
        assert exporter.export(spans) is True
        assert exporter.rejected_spans == 1


def test_export_to_closed_port_returns_false_without_raising() -> None:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    port = server.server_address[1]
    server.server_close()
    spans, _ = _batch()
    with OtlpExporter(f"http://127.0.0.1:{port}", timeout=1) as exporter:
        assert exporter.export(spans) is False
        assert exporter.last_error is not None


def test_export_of_malformed_span_ids_returns_false() -> None:
    bad = Span("nothex", "00f067aa0ba902b7", None, "x", SpanKind.CUSTOM, 1, 2)
    with OtlpExporter("http://127.0.0.1:9") as exporter:
        assert exporter.export([bad]) is False
        assert exporter.last_error is not None and "trace id" in exporter.last_error
