"""Cost through a real server (uvicorn in a thread, both backends): spans of other producers
(OpenTelemetry GenAI ``gen_ai.usage.*`` with cached and reasoning tokens, OpenInference
``llm.token_count.*``) arrive by OTLP, are priced at ingest, and the runs API and
``/api/v1/cost`` show the sums; an unknown model is unpriced (null) and ``/cost/price`` says
so with a 404 naming it; bad parameters are 400s naming the parameter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Tracer
from server_support import Keys, make_keys

from agentdeck.prices import reset_default_prices
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from app_thread import serve_in_thread
from tracing.otel_fixtures import record

pytestmark = pytest.mark.slow


def _genai_run(tracer: Tracer) -> None:
    with tracer.start_as_current_span(
        "invoke_agent costly-bot",
        attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "costly-bot"},
    ):
        with tracer.start_as_current_span(
            "chat acme-large",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "acme-large",
                "gen_ai.usage.input_tokens": 1_000_000,
                "gen_ai.usage.output_tokens": 200_000,
                "gen_ai.usage.cache_read.input_tokens": 600_000,
                "gen_ai.usage.reasoning.output_tokens": 100_000,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "chat mystery",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "mystery-model-x",
                "gen_ai.usage.input_tokens": 10,
                "gen_ai.usage.output_tokens": 5,
            },
        ):
            pass


def _openinference_run(tracer: Tracer) -> None:
    with (
        tracer.start_as_current_span(
            "agent", attributes={"openinference.span.kind": "AGENT", "agent.name": "costly-bot"}
        ),
        tracer.start_as_current_span(
            "llm",
            attributes={
                "openinference.span.kind": "LLM",
                "llm.model_name": "acme-large",
                "llm.token_count.prompt": 2_000_000,
                "llm.token_count.completion": 0,
                "llm.token_count.prompt_details.cache_read": 0,
            },
        ),
    ):
        pass


@pytest.fixture
def server(store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    f = tmp_path / "prices.yaml"
    # $1 / Mtok input, $0.1 cached, $4 output, $8 reasoning
    f.write_text("prices:\n  acme-large: {input: 1, cache_read: 0.1, output: 4, reasoning: 8}\n")
    monkeypatch.setenv("AGENTDECK_PRICES_FILE", str(f))
    reset_default_prices()
    keys = make_keys(store)
    app = create_app(store)
    url, stop = serve_in_thread(app)
    try:
        yield url, keys, app.state.agentdeck
    finally:
        stop()
        reset_default_prices()


def _send(url: str, keys: Keys, state: Any, build: Any) -> None:
    _, spans = record(build)
    exporter = OTLPSpanExporter(
        endpoint=f"{url}/v1/traces", headers=keys.header("ingest"), timeout=10
    )
    assert exporter.export(spans) is SpanExportResult.SUCCESS
    exporter.shutdown()
    assert state.after_ingest.drain(20)


def _get(url: str, keys: Keys, path: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", headers=keys.header("read"), timeout=10)


def test_otlp_spans_are_priced_at_ingest_and_shown_by_the_runs_and_cost_apis(server: Any) -> None:
    url, keys, state = server
    _send(url, keys, state, _genai_run)
    _send(url, keys, state, _openinference_run)
    runs = {r["total_tokens"]: r for r in _get(url, keys, "/api/v1/runs").json()}
    genai, oi = runs[1_200_015], runs[2_000_000]
    # 400k uncached x $1 + 600k cached x $0.1 + 100k x $4 + 100k reasoning x $8 = $1.66
    assert genai["cost_usd"] == pytest.approx(0.4 + 0.06 + 0.4 + 0.8)
    assert genai["unpriced_calls"] == 1  # mystery-model-x: left out, and said so
    assert (genai["input_tokens"], genai["output_tokens"]) == (1_000_010, 200_005)
    assert oi["cost_usd"] == pytest.approx(2.0) and oi["unpriced_calls"] == 0
    one = _get(url, keys, f"/api/v1/runs/{oi['trace_id']}").json()
    assert one["run"]["cost_usd"] == pytest.approx(2.0)

    (total,) = _get(url, keys, "/api/v1/cost?group_by=agent").json()
    assert total == {
        "agent": "costly-bot",
        "runs": 2,
        "input_tokens": 3_000_010,
        "output_tokens": 200_005,
        "total_tokens": 3_200_015,
        "cost_usd": pytest.approx(3.66),
        "mean_cost_usd": pytest.approx(1.83),
        "unpriced_calls": 1,
        "max_cost_usd": pytest.approx(2.0),
    }
    assert _get(url, keys, "/api/v1/cost?group_by=day").json()[0]["runs"] == 2


def test_prices_and_bad_parameters(server: Any) -> None:
    url, keys, _ = server
    found = _get(url, keys, "/api/v1/cost/price/acme-large").json()
    assert found["input"]["usd_per_mtok"] == 1.0 and "overrides" in found["source"]
    assert _get(url, keys, "/api/v1/cost/price/gpt-4o").json()["source"] == "genai-prices"
    unknown = _get(url, keys, "/api/v1/cost/price/mystery-model-x")
    assert unknown.status_code == 404 and "mystery-model-x" in unknown.json()["error"]
    bad = _get(url, keys, "/api/v1/cost?group_by=model")
    assert bad.status_code == 400 and "query.group_by" in bad.json()["error"]
    assert _get(url, keys, "/api/v1/cost?since=yesterdayish").status_code == 400
    assert httpx.get(f"{url}/api/v1/cost", timeout=10).status_code == 401
