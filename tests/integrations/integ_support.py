"""Shared helpers for the integration tests: a scripted HTTP server on 127.0.0.1, SDK set-up.

:class:`FakeServer` answers each POST with the next scripted reply (a JSON body, or a list of
server-sent events) in the providers' recorded wire formats, and keeps the request bodies so
tests can check what the SDK sent. It never touches any other address.
"""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent, ToolSpec
from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.guard import ToolCallInfo

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


class Reply:
    """One scripted answer: ``json`` for a plain body, ``events`` for an SSE stream; extra
    response ``headers`` (e.g. ``x-request-id``) if given."""

    def __init__(self, json_body: Any = None, events: list[tuple[str | None, Any]] | None = None,
                 status: int = 200, headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self.json_body, self.events, self.status = json_body, events, status
        self.headers = headers or {}


class FakeServer:
    """A loopback HTTP server replaying scripted replies in order; records request bodies."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                outer.paths.append(self.path)
                outer.requests.append(json.loads(body) if body else {})
                reply = (
                    outer.replies.pop(0)
                    if outer.replies
                    else Reply({"error": "no reply"}, status=500)
                )
                if reply.events is None:
                    data = json.dumps(reply.json_body).encode()
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                chunks = []
                for event, payload in reply.events:
                    text = payload if isinstance(payload, str) else json.dumps(payload)
                    head = f"event: {event}\n" if event else ""
                    chunks.append(f"{head}data: {text}\n\n")
                data = "".join(chunks).encode()
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def no_warnings() -> Iterator[None]:
    """Fails the test if anything warned while it ran (telemetry must not warn in the caller's
    name). ResourceWarnings are left out: other tests' unclosed clients are collected anytime."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", ResourceWarning)
        yield
    assert [f"{w.category.__name__}: {w.message}" for w in caught] == []


def make_agent() -> ResolvedAgent:
    spec = AgentSpec(
        name="support-bot",
        model=ModelSpec("openai", "gpt-4o-mini-2024-07-18"),
        tools=(ToolSpec("get_weather", input_schema=WEATHER_SCHEMA, version="1.0.0"),),
    )
    return ResolvedAgent("support-bot", 1, spec.digest, spec, env="dev")


AGENT = make_agent()


class DenyCity:
    """A tiny ToolGuard: denies any call whose ``city`` argument is ``denied``; counts checks."""

    def __init__(self, denied: str = "Atlantis") -> None:
        self.denied = denied
        self.checked: list[tuple[str, dict[str, Any]]] = []

    def check(self, call: ToolCallInfo) -> None:
        self.checked.append((call.tool, dict(call.args)))
        if call.args.get("city") == self.denied:
            raise PolicyDenied(call.tool, ["no-atlantis"], f"{self.denied} is off limits")


def start_sdk(tmp_path: Path, guard: Any = None) -> sdk.InMemorySink:
    sink = sdk.InMemorySink()
    sdk.init(sink=sink, spill_dir=tmp_path / "spill", schedule_delay=0.02, guard=guard)
    return sink


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[sdk.InMemorySink]:
    """An initialised SDK writing to an InMemorySink, with no guard; shut down afterwards."""
    s = start_sdk(tmp_path)
    yield s
    sdk.shutdown(timeout=5)


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[tuple[sdk.InMemorySink, DenyCity]]:
    """Like ``sink`` with a :class:`DenyCity` guard configured."""
    guard = DenyCity()
    s = start_sdk(tmp_path, guard)
    yield s, guard
    sdk.shutdown(timeout=5)


def trace_spans(sink: sdk.InMemorySink, trace_id: str | None = None) -> list[Span]:
    """Stored spans of ``trace_id`` (or of the only trace), in ``seq`` order."""
    assert sdk.flush(5)
    spans = sink.spans
    if trace_id is None:
        ids = {s.trace_id for s in spans}
        assert len(ids) == 1, f"expected one trace, got {len(ids)}"
    else:
        spans = [s for s in spans if s.trace_id == trace_id]
    return sorted(spans, key=lambda s: s.seq)


def of_kind(spans: list[Span], kind: SpanKind) -> list[Span]:
    return [s for s in spans if s.kind is kind]
