"""Redaction in the SDK: no destination (embedded store, spill file, HTTP ingest, OTLP export)
ever receives a secret the agent passed to a tool or a model; ``init(redact=...)`` configures it."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
from redaction_corpus import AWS_ID, AWS_SECRET, JWT, PASSWORD, PEM
from sdk_support import BOT, RESOLVER, start
from sqlalchemy import select

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.store import SqlStore
from agentdeck.store.tables import metadata
from agentdeck.tracing.otlp.export import OtlpExporter
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.sink import InMemorySink

SECRETS = (AWS_ID, AWS_SECRET, JWT, PASSWORD, PEM.splitlines()[2])


@sdk.tool
def login(user: str, password: str, note: str) -> dict[str, str]:
    return {"user": user, "session": JWT, "status": "ok"}


def record_secrets() -> str:
    """One run whose input, tool args, tool result and LLM messages all carry secrets."""
    with sdk.run(agent=BOT, input={"question": f"my key is {AWS_ID}"}) as run:
        login("bob", PASSWORD, f"aws_secret_access_key={AWS_SECRET}")
        with sdk.llm(messages=[{"role": "user", "content": f"deploy with\n{PEM}"}]) as call:
            call.record(ModelResponse.assistant(f"done, password={PASSWORD}"))
        run.set_output("ok")
    return run.trace_id


def assert_clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert leaked == [], f"secrets leaked: {leaked}"
    assert "[REDACTED:" in text


def _dump(sink: InMemorySink) -> str:
    return repr(sink.runs) + repr(sink.spans)


def test_the_embedded_store_never_receives_a_secret(store: SqlStore, tmp_path: Path) -> None:
    start(tmp_path, sink=store)
    try:
        trace_id = record_secrets()
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
    rows = []
    with store.engine.connect() as conn:
        for table in metadata.tables.values():
            rows.extend(str(tuple(r)) for r in conn.execute(select(table)))
    assert trace_id in "\n".join(rows)
    assert_clean("\n".join(rows))
    tool = next(s for s in store.get_spans(trace_id) if s.kind.value == "tool")
    assert tool.inputs["args"]["user"] == "bob"  # what is not secret is kept
    assert tool.inputs["args"]["password"] == "[REDACTED:key]"


class DownSink(InMemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.down = True

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        if self.down:
            raise ConnectionError("store unreachable")
        super().write_batch(runs, spans)


def test_spill_files_hold_no_secret_and_resent_data_stays_masked(tmp_path: Path) -> None:
    sink = DownSink()
    start(tmp_path, sink=sink)
    try:
        record_secrets()
        first = sdk.flush(10)
        assert not first and first.spilled > 0  # only spilled: flush says so
        stats = sdk.stats()
        assert stats is not None and stats.spill_pending
        spilled = "".join(p.read_text() for p in (tmp_path / "spill").glob("spill-*.jsonl"))
        assert_clean(spilled)
        sink.down = False
        assert sdk.flush(10)
        stats = sdk.stats()
        assert stats is not None and not stats.spill_pending
    finally:
        sdk.shutdown(5)
    assert len(sink.spans) == 3
    assert_clean(_dump(sink))


class Received:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()


@pytest.fixture
def http_server() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            with received.lock:
                received.bodies.append(body)
            self.send_response(200 if self.path.endswith("/v1/traces") else 202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", received
    httpd.shutdown()
    httpd.server_close()


def test_the_http_ingest_destination_receives_no_secret(
    tmp_path: Path, http_server: tuple[str, Received]
) -> None:
    url, received = http_server
    sdk.init(endpoint=url, api_key="k-1", resolver=RESOLVER, spill_dir=tmp_path / "spill",
             schedule_delay=0.02)  # fmt: skip
    try:
        trace_id = record_secrets()
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
    body = b"\n".join(received.bodies).decode()
    assert trace_id in body
    assert_clean(body)


def test_the_otlp_export_destination_receives_no_secret(
    tmp_path: Path, http_server: tuple[str, Received]
) -> None:
    url, received = http_server
    exporter = OtlpExporter(url)
    start(tmp_path, sink=exporter)
    try:
        trace_id = record_secrets()
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
        exporter.shutdown()
    body = b"\n".join(received.bodies)
    assert bytes.fromhex(trace_id) in body  # protobuf: ids as bytes, strings as UTF-8
    assert_clean(body.decode("utf-8", errors="replace"))


def test_redact_false_sends_values_as_they_are_and_says_so_on_the_run(tmp_path: Path) -> None:
    sink = start(tmp_path, redact=False)
    try:
        trace_id = record_secrets()
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
    assert PASSWORD in _dump(sink)
    run = sink.run(trace_id)
    assert run is not None and run.attributes["agentdeck.redaction"] == "off"


def test_extra_patterns_and_keys_from_init_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTDECK_REDACT_KEYS", "member_no")
    sink = start(tmp_path, redact={"patterns": {"ticket": r"TCK-\d+"}, "keys": ["ssn"]})
    try:
        with sdk.run(agent=BOT, input={"ssn": "123-45-6789", "memberNo": "M-77"}) as run:
            run.set_output(f"opened TCK-991 for {AWS_ID}")
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
    stored = sink.run(run.trace_id)
    assert stored is not None
    assert stored.input == {"ssn": "[REDACTED:key]", "memberNo": "[REDACTED:key]"}
    assert stored.output == "opened [REDACTED:ticket] for [REDACTED:api_keys]"
    assert "agentdeck.redaction" not in stored.attributes


@pytest.mark.parametrize(
    ("redact", "message"),
    [
        ("yes", "redact must be True, False or a mapping"),
        ({"pattern": {}}, "unknown field 'pattern'"),
        ({"groups": ["phone"]}, "unknown pattern group 'phone'"),
        ({"patterns": {"t": "(unclosed"}}, r"redact\['patterns'\]: pattern 't' does not compile"),
        ({"keys": "ssn"}, r"redact\['keys'\] must be a list"),
    ],
)
def test_a_bad_redact_setting_names_the_field(tmp_path: Path, redact: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        sdk.init(sink=InMemorySink(), spill_dir=tmp_path, redact=redact)  # type: ignore[arg-type]
    assert sdk.stats() is None  # nothing was started


def test_a_bad_environment_setting_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTDECK_REDACT_PATTERNS", "{not json")
    with pytest.raises(InputError, match="AGENTDECK_REDACT_PATTERNS: not JSON"):
        sdk.init(sink=InMemorySink(), spill_dir=tmp_path)


def test_a_span_the_redactor_cannot_process_is_masked_not_sent(tmp_path: Path) -> None:
    from agentdeck.tracing.sdk.redaction import BatchRedactor, RedactionConfig

    class Boom(str):
        def startswith(self, *args: object) -> bool:  # type: ignore[override]
            raise RuntimeError("a bug in the redactor")

    hook = BatchRedactor(RedactionConfig())
    span = Span("a" * 32, "b" * 16, None, "s", SpanKind.TOOL, 1, 2,
                inputs={"note": Boom(f"password={PASSWORD}")})  # fmt: skip
    runs, spans = hook([], [span])
    assert spans[0].inputs == "[REDACTED:error]" and spans[0].span_id == "b" * 16
    assert orjson.dumps(runs) == b"[]"


def test_an_outcome_reason_is_masked_before_it_leaves_the_process(tmp_path: Path) -> None:
    sink = InMemorySink()
    start(tmp_path, sink=sink)
    try:
        with sdk.run(agent=None, input="q") as run:
            run.set_outcome(success=False, reason="login failed with password=hunter2secret")
        assert sdk.flush(10)
    finally:
        sdk.shutdown(5)
    (stored,) = sink.runs
    assert stored.outcome_reason is not None and "hunter2secret" not in stored.outcome_reason
    assert stored.outcome_reason.startswith("login failed with password=")
