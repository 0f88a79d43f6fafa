"""A real HTTP ingest endpoint on 127.0.0.1 for exporter tests (http.server in a thread), with
switches for the faults the exporter must survive, and a raw socket that accepts and never
answers (a hung server)."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk.wire import batch_from_bytes


class Ingest:
    """What the server stored (de-duplicated by id, as the real store does) and how it answers.

    ``status`` (e.g. 503) answers every request with that status; ``refuse(runs, spans)``
    returns a status for one batch (413, 400 ...) or None to accept it.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans: dict[tuple[str, str], Span] = {}
        self.runs: dict[str, Run] = {}
        self.requests = 0
        self.gzipped = 0
        self.refused: list[int] = []
        self.status: int | None = None
        self.refuse: Callable[[list[Run], list[Span]], int | None] = lambda runs, spans: None

    def trace_ids(self) -> set[str]:
        with self.lock:
            return set(self.runs)


@contextmanager
def ingest_server() -> Iterator[tuple[str, Ingest]]:
    ingest = Ingest()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with ingest.lock:
                ingest.requests += 1
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
                ingest.gzipped += 1
            runs, spans = batch_from_bytes(body)
            status = ingest.status or ingest.refuse(runs, spans)
            if status is not None:
                ingest.refused.append(status)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"refused")
                return
            with ingest.lock:
                for s in spans:
                    ingest.spans.setdefault((s.trace_id, s.span_id), s)
                for r in runs:
                    ingest.runs.setdefault(r.trace_id, r)
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", ingest
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def hung_server() -> Iterator[str]:
    """A socket on 127.0.0.1 that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        t.join(5)
        for c in held:
            c.close()
        sock.close()
