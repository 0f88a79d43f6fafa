"""The OTLP/HTTP receiver on a live server: the official opentelemetry-exporter-otlp-proto-http
sends protobuf (gzip and not); OTLP/JSON; partial success; 400 changes nothing; 413; 415."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest
from demo_data import settled_counts
from google.rpc.status_pb2 import Status
from live import LiveServer, free_port
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.trace.export import SpanExportResult

from agentdeck.core.trace.model import SpanKind
from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore, open_store
from tracing.otel_fixtures import genai_agent_run, openinference_run, record, to_otlp_json

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server-otlp-live")]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, SqlStore, str]]:
    tmp = tmp_path_factory.mktemp("otlp")
    url = f"sqlite:///{tmp / 'live.db'}"
    store = open_store(url)
    key = create_key(store, "otel-collector", ["ingest"], "test").token
    server = LiveServer(url, free_port(), tmp / "server.log").start(
        AGENTDECK_MAX_BODY_BYTES=str(256 * 1024)
    )
    yield server, store, key
    server.stop()
    store.close()


def _exporter(server: LiveServer, key: str, gz: bool) -> OTLPSpanExporter:
    return OTLPSpanExporter(
        endpoint=f"{server.url}/v1/traces",
        headers={"Authorization": f"Bearer {key}"},
        compression=Compression.Gzip if gz else Compression.NoCompression,
        timeout=10,
    )


@pytest.mark.parametrize("gz", [False, True])
def test_official_exporter_delivers_genai_spans_mapped_to_agentdeck_kinds(
    live: tuple[LiveServer, SqlStore, str], gz: bool
) -> None:
    server, store, key = live
    _, spans = record(
        genai_agent_run, {"service.name": "bot", "deployment.environment.name": "production"}
    )
    exporter = _exporter(server, key, gz)
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # a re-send stores nothing twice
    exporter.shutdown()
    trace_id = format(spans[0].context.trace_id, "032x")
    stored = store.get_spans(trace_id)
    assert len(stored) == len(spans)
    kinds = {s.name: s.kind for s in stored}
    assert kinds["invoke_agent support-bot"] is SpanKind.AGENT
    assert kinds["chat gpt-4o"] is SpanKind.LLM
    assert kinds["execute_tool get_weather"] is SpanKind.TOOL
    assert SpanKind.HANDOFF in kinds.values()
    run = store.get_run(trace_id)
    assert run is not None and run.agent_name == "support-bot" and run.env == "production"


def test_openinference_spans_as_otlp_json(live: tuple[LiveServer, SqlStore, str]) -> None:
    server, store, key = live
    request, spans = record(openinference_run)
    r = httpx.post(
        f"{server.url}/v1/traces",
        content=to_otlp_json(request),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {}
    stored = store.get_spans(format(spans[0].context.trace_id, "032x"))
    assert {s.kind for s in stored} >= {SpanKind.AGENT, SpanKind.LLM, SpanKind.TOOL}


def test_partial_success_counts_and_explains_rejected_spans(
    live: tuple[LiveServer, SqlStore, str],
) -> None:
    server, store, key = live
    request, spans = record(genai_agent_run)
    request.resource_spans[0].scope_spans[0].spans[0].span_id = b"\x01\x02"  # wrong length
    r = httpx.post(
        f"{server.url}/v1/traces",
        content=gzip.compress(request.SerializeToString()),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
        },
    )
    assert r.status_code == 200
    reply = ExportTraceServiceResponse.FromString(r.content)
    assert reply.partial_success.rejected_spans == 1
    assert "spanId" in reply.partial_success.error_message
    assert len(store.get_spans(format(spans[0].context.trace_id, "032x"))) == len(spans) - 1


def test_malformed_payloads_get_400_413_415_and_store_nothing(
    live: tuple[LiveServer, SqlStore, str],
) -> None:
    server, store, key = live
    before = settled_counts(store)
    auth = {"Authorization": f"Bearer {key}"}
    bad = httpx.post(
        f"{server.url}/v1/traces",
        content=b"\xff\x00garbage",
        headers={**auth, "Content-Type": "application/x-protobuf"},
    )
    assert bad.status_code == 400
    status = Status.FromString(bad.content)
    assert status.code == 3 and "not a valid OTLP" in status.message
    bad_json = httpx.post(
        f"{server.url}/v1/traces",
        content=b'{"resourceSpans": 7}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 400 and "resourceSpans" in bad_json.json()["error"]
    bad_gzip = httpx.post(
        f"{server.url}/v1/traces",
        content=b"not gzip",
        headers={**auth, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert bad_gzip.status_code == 400 and "gzip" in bad_gzip.json()["error"]
    big = httpx.post(
        f"{server.url}/v1/traces",
        content=b"0" * (300 * 1024),
        headers={**auth, "Content-Type": "application/x-protobuf"},
    )
    assert big.status_code == 413
    wrong_type = httpx.post(
        f"{server.url}/v1/traces", content=b"{}", headers={**auth, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    no_key = httpx.post(
        f"{server.url}/v1/traces", content=b"{}", headers={"Content-Type": "application/json"}
    )
    assert no_key.status_code == 401
    assert settled_counts(store) == before
