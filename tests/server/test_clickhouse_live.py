"""A live ``agentdeck serve`` with ``AGENTDECK_TRACES_URL`` naming ClickHouse (chdb in the server
process): OTLP ingest, the runs list and a run page work unchanged, and the traces are in
ClickHouse, not in the SQL database that keeps the keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import LiveServer, free_port
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from sqlalchemy import func, select

from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore, open_store
from agentdeck.store.tables import runs as sql_runs
from agentdeck.store.tables import spans as sql_spans
from tracing.otel_fixtures import genai_agent_run, record

pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("server-clickhouse-live")]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[LiveServer, SqlStore, str]]:
    url = f"sqlite:///{tmp_path / 'control.db'}"
    store = open_store(url)
    key = create_key(store, "collector", ["ingest", "read"], "test").token
    server = LiveServer(url, free_port(), tmp_path / "server.log").start(
        AGENTDECK_TRACES_URL=f"chdb://{tmp_path / 'clickhouse'}"
    )
    yield server, store, key
    server.stop()
    store.close()


def test_ingest_and_queries_work_unchanged_on_clickhouse(
    live: tuple[LiveServer, SqlStore, str],
) -> None:
    server, store, key = live
    _, spans = record(
        genai_agent_run, {"service.name": "bot", "deployment.environment.name": "production"}
    )
    exporter = OTLPSpanExporter(
        endpoint=f"{server.url}/v1/traces", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert exporter.export(spans) is SpanExportResult.SUCCESS  # a re-send stores nothing twice
    exporter.shutdown()
    trace_id = format(spans[0].context.trace_id, "032x")
    auth = {"Authorization": f"Bearer {key}"}
    listed = httpx.get(f"{server.url}/api/v1/runs", headers=auth, timeout=10)
    assert listed.status_code == 200, listed.text
    assert [r["trace_id"] for r in listed.json()] == [trace_id]
    page = httpx.get(f"{server.url}/api/v1/runs/{trace_id[:12]}", headers=auth, timeout=10)
    assert page.status_code == 200, page.text
    assert len(page.json()["spans"]) == len(spans)
    with store.engine.connect() as conn:  # the SQL database kept the key, not the trace
        assert conn.execute(select(func.count()).select_from(sql_runs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(sql_spans)).scalar() == 0
