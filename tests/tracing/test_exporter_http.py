"""HttpSink against a real local HTTP server on 127.0.0.1, end to end through the SDK."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sdk_support import BOT

from agentdeck.core.errors import StoreError
from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.sink import HttpSink
from agentdeck.tracing.sdk.wire import batch_from_bytes


class Ingest:
    """What the fake server saw; ``fail`` makes it answer 503."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None, bytes]] = []
        self.fail = False
        self.gzipped = 0


@pytest.fixture
def server() -> Iterator[tuple[str, Ingest]]:
    ingest = Ingest()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
                ingest.gzipped += 1
            if ingest.fail:
                self.send_response(503)
                self.end_headers()
                self.wfile.write(b"busy")
                return
            ingest.requests.append((self.path, self.headers.get("Authorization"), body))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", ingest
    httpd.shutdown()
    httpd.server_close()


def test_http_sink_posts_the_wire_format_with_the_api_key(server: tuple[str, Ingest]) -> None:
    url, ingest = server
    sink = HttpSink(url, "k-123")
    span = Span("a" * 32, "b" * 16, None, "s", SpanKind.TOOL, 1, 2, inputs={"args": {"x": 1}})
    sink.write_batch([], [span])
    sink.close()
    ((path, auth, body),) = ingest.requests
    assert path == "/api/v1/ingest" and auth == "Bearer k-123"
    assert batch_from_bytes(body) == ([], [span])


def test_http_sink_raises_store_error_on_a_refusal(server: tuple[str, Ingest]) -> None:
    url, ingest = server
    ingest.fail = True
    with pytest.raises(StoreError, match="HTTP 503"):
        HttpSink(url).write_batch([], [])


def test_sdk_reads_the_endpoint_from_the_environment_and_spills_while_the_server_fails(
    server: tuple[str, Ingest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, ingest = server
    monkeypatch.setenv("AGENTDECK_ENDPOINT", url)
    monkeypatch.setenv("AGENTDECK_API_KEY", "env-key")
    ingest.fail = True
    sdk.init(spill_dir=tmp_path, schedule_delay=0.02)
    try:

        @sdk.tool
        def ping(n: int) -> int:
            return n

        with sdk.run(agent=BOT) as run:
            ping(1)
        result = sdk.flush(5)
        assert not result and result.spilled == 3
        assert ingest.requests == []
        ingest.fail = False
        assert sdk.flush(5)
        received = [batch_from_bytes(body) for _, _, body in ingest.requests]
        spans = [s for _, batch in received for s in batch]
        runs = [r for batch, _ in received for r in batch]
        assert {s.trace_id for s in spans} == {run.trace_id} and len(spans) == 2
        assert [r.trace_id for r in runs] == [run.trace_id]
        assert {auth for _, auth, _ in ingest.requests} == {"Bearer env-key"}
    finally:
        assert sdk.shutdown(5)
