"""The server forwards what it stores to an OTLP collector (``AGENTDECK_FORWARD_OTLP_*``), off
the request path: a local receiver decoding with ``opentelemetry-proto`` gets the SDK's batches
and the OTLP traces the server received, with GenAI names and the run stamp; a collector that is
down or hung never fails or holds an ingest, and what could not be forwarded is counted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from server_support import Keys, make_keys

from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.core.trace.query import RunQuery
from agentdeck.server.app import create_app
from agentdeck.server.otlp_forward import OtlpForwarder
from agentdeck.server.settings import ServerSettings
from agentdeck.settings.env import ServerEnv
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_bytes
from net_support import closed_port_url, hung_server
from session_data import record_session_runs
from tracing.otel_fixtures import genai_agent_run, record
from tracing.otlp_receiver import Receiver, attributes, otlp_receiver


@pytest.fixture
def collector() -> Iterator[Receiver]:
    with otlp_receiver() as r:
        yield r


def _app(store: SqlStore, endpoint: str) -> TestClient:
    settings = ServerSettings(forward_otlp_endpoint=endpoint,
                              forward_otlp_headers={"x-api-key": "fwd"})  # fmt: skip
    return TestClient(create_app(store, settings))


def test_forwards_sdk_batches_and_otlp_traces(
    store: SqlStore, collector: Receiver, tmp_path: Path
) -> None:
    keys: Keys = make_keys(store)
    with _app(store, collector.url) as client:
        ids = record_session_runs(store, tmp_path / "sdk")  # stored directly: not forwarded
        run = store.get_run(ids["a1"])
        assert run is not None
        batch = batch_to_bytes([run], store.get_spans(ids["a1"]))  # as the SDK sends it
        resp = client.post("/api/v1/ingest", content=batch, headers={
            **keys.header("ingest"), "content-type": "application/json"})  # fmt: skip
        assert resp.status_code == 202, resp.text
        request, _ = record(genai_agent_run)
        resp = client.post("/v1/traces", content=request.SerializeToString(), headers={
            **keys.header("ingest"), "content-type": "application/x-protobuf"})  # fmt: skip
        assert resp.status_code == 200, resp.text
        forwarder = client.app.state.agentdeck.forwarder  # type: ignore[attr-defined]
        assert forwarder is not None and forwarder.drain(30)
        n_otel = sum(len(ss.spans) for rs in request.resource_spans for ss in rs.scope_spans)
        got = collector.wait_for(1 + n_otel)
    assert forwarder.stats.sent_spans == 1 + n_otel and forwarder.stats.failed_spans == 0
    ((res, sdk_root),) = [(r, s) for r, s in got if s.trace_id.hex() == ids["a1"]]
    assert res["service.name"] == "agentdeck-server"
    assert sdk_root.name == "invoke_agent support-bot"
    assert attributes(sdk_root.attributes)["agentdeck.run.session_id"] == "conv-a"
    names = {s.name for _, s in got if s.trace_id.hex() != ids["a1"]}
    assert "invoke_agent support-bot" in names
    assert any(name.startswith("execute_tool ") for name in names)
    assert all(r.headers.get("x-api-key") == "fwd" for r in collector.received)


def test_a_collector_down_fails_no_ingest_and_is_counted(store: SqlStore) -> None:
    keys = make_keys(store)
    with _app(store, closed_port_url()) as client:
        request, _ = record(genai_agent_run)
        resp = client.post("/v1/traces", content=request.SerializeToString(), headers={
            **keys.header("ingest"), "content-type": "application/x-protobuf"})  # fmt: skip
        assert resp.status_code == 200, resp.text
        forwarder = client.app.state.agentdeck.forwarder  # type: ignore[attr-defined]
        assert forwarder.drain(30)
    assert forwarder.stats.sent_spans == 0 and forwarder.stats.failed_spans > 0
    assert forwarder.stats.last_error is not None
    assert len(store.find_runs(RunQuery())) == 1  # stored all the same


def _span(i: int) -> Span:
    return Span("ab" * 16, f"{i:016x}", None, f"s{i}", SpanKind.CUSTOM, 1, 2)


def test_a_hung_collector_fills_the_bounded_queue_and_drops_are_counted() -> None:
    with hung_server() as url:
        forwarder = OtlpForwarder(url, max_pending=2, timeout=2.0)
        forwarder.start()
        try:
            for i in range(10):
                forwarder.submit([], [_span(i)])  # returns at once: the worker is stuck
            assert forwarder.stats.dropped_spans >= 7
        finally:
            forwarder.close(timeout=30)
    total = forwarder.stats.sent_spans + forwarder.stats.dropped_spans
    assert total + forwarder.stats.failed_spans == 10 and forwarder.stats.sent_spans == 0


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_FORWARD_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("AGENTDECK_FORWARD_OTLP_HEADERS", "x-api-key=a%2Cb,team=ops")
    monkeypatch.setenv("AGENTDECK_FORWARD_OTLP_QUEUE", "8")
    s = ServerSettings.from_env()
    assert s.forward_otlp_endpoint == "http://127.0.0.1:4318" and s.forward_otlp_queue == 8
    assert dict(s.forward_otlp_headers) == {"x-api-key": "a,b", "team": "ops"}
    assert "forward_otlp_endpoint" in ServerEnv.model_fields
    monkeypatch.setenv("AGENTDECK_FORWARD_OTLP_HEADERS", "broken")
    with pytest.raises(Exception, match="AGENTDECK_FORWARD_OTLP_HEADERS"):
        ServerSettings.from_env()
