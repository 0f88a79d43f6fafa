"""Traces whose root span has not arrived (or never will) become runs: the official
OpenTelemetry exporter sends a trace in parts, children first as a batch processor does, to the
real receiver (uvicorn on the ``store`` fixture: SQLite and PostgreSQL). The run is listed at
once, widens with more children, is replaced by the run derived from the root when it comes,
and re-sends change nothing; a trace whose run exists is left alone; provisional runs are not
checked on arrival (they would be flagged as ending without output), the real run is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.trace import Status, StatusCode, Tracer
from server_support import Keys, make_keys

from agentdeck.core.trace.model import PROVISIONAL, Run, Span, SpanStatus
from agentdeck.server.app import create_app
from agentdeck.server.deps import ServerState
from agentdeck.store import SqlStore
from agentdeck.store.tables_monitor import run_summaries
from app_thread import serve_in_thread
from tracing.otel_fixtures import record

pytestmark = pytest.mark.slow


def recovered_run(tracer: Tracer) -> None:
    """An agent run (the root span, OK) whose model call names the agent, one tool failing
    and one working."""
    with tracer.start_as_current_span(
        "invoke_agent support-bot",
        attributes={
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "support-bot",
            "gen_ai.agent.version": "7",
        },
    ) as root:
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.agent.name": "support-bot",
            },
        ):
            pass
        with tracer.start_as_current_span(
            "execute_tool lookup_invoice",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup"},
        ) as failing:
            failing.set_status(Status(StatusCode.ERROR, "invoice service down"))
        with tracer.start_as_current_span(
            "execute_tool get_weather",
            attributes={"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "weather"},
        ):
            pass
        root.set_status(Status(StatusCode.OK))


@dataclass
class Receiver:
    url: str
    store: SqlStore
    keys: Keys
    state: ServerState

    def export(self, spans: Sequence[ReadableSpan]) -> None:
        exporter = OTLPSpanExporter(
            endpoint=f"{self.url}/v1/traces", headers=self.keys.header("ingest"), timeout=10
        )
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        exporter.shutdown()
        assert self.state.after_ingest.drain(20)

    def listed(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/api/v1/runs", headers=self.keys.header("read"), timeout=10)
        assert r.status_code == 200
        runs: list[dict[str, Any]] = r.json()
        return runs

    def stored(self, trace_id: str) -> tuple[Run | None, list[Span]]:
        return self.store.get_run(trace_id), self.store.get_spans(trace_id)

    def summarized(self, trace_id: str) -> bool:
        with self.store.engine.connect() as conn:
            q = run_summaries.select().where(run_summaries.c.trace_id == trace_id)
            return conn.execute(q).first() is not None


@pytest.fixture
def receiver(store: SqlStore) -> Iterator[Receiver]:
    keys = make_keys(store)
    app = create_app(store)
    url, stop = serve_in_thread(app)
    try:
        yield Receiver(url, store, keys, app.state.agentdeck)
    finally:
        stop()


def _parts(spans: list[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {s.name.split()[-1]: s for s in spans}


def test_children_first_then_root_through_the_official_exporter(receiver: Receiver) -> None:
    _, spans = record(recovered_run, {"service.name": "bot", "deployment.environment.name": "prod"})
    p = _parts(spans)
    tid = format(p["support-bot"].context.trace_id, "032x")

    receiver.export([p["gpt-4o"]])  # the first child alone: a run, listed at once
    (listed,) = receiver.listed()
    assert listed["trace_id"] == tid and listed["attributes"][PROVISIONAL] is True
    run, _ = receiver.stored(tid)
    assert run is not None and run.provisional
    assert (run.start_ns, run.end_ns) == (p["gpt-4o"].start_time, p["gpt-4o"].end_time)
    assert (run.status, run.agent_name, run.env) == (SpanStatus.UNSET, "support-bot", "prod")

    receiver.export([p["lookup_invoice"], p["get_weather"]])  # more children: it widens
    run, stored_spans = receiver.stored(tid)
    assert run is not None and run.provisional and len(stored_spans) == 3
    assert (run.start_ns, run.end_ns) == (p["gpt-4o"].start_time, p["get_weather"].end_time)
    assert (run.status, run.error) == (SpanStatus.ERROR, "invoice service down")
    assert receiver.store.list_findings(trace_id=tid) == []  # partial: not checked on arrival
    assert not receiver.summarized(tid)

    before = receiver.stored(tid)
    receiver.export([p["lookup_invoice"], p["get_weather"]])  # re-sent after a failure
    assert receiver.stored(tid) == before

    root = p["support-bot"]
    receiver.export([root])  # the root: the derived run replaces the provisional one whole
    run, stored_spans = receiver.stored(tid)
    assert run is not None and not run.provisional and len(stored_spans) == 4
    assert run.root_span_id == format(root.context.span_id, "016x")
    assert (run.agent_name, run.agent_version, run.env) == ("support-bot", 7, "prod")
    assert (run.status, run.error) == (SpanStatus.OK, None)
    assert (run.start_ns, run.end_ns) == (root.start_time, root.end_time)
    assert PROVISIONAL not in run.attributes and run.attributes["service.name"] == "bot"
    assert receiver.summarized(tid)  # the real run was checked on arrival

    after = receiver.stored(tid)
    receiver.export([p["gpt-4o"]])  # a late re-send of a child changes nothing
    receiver.export([root])
    assert receiver.stored(tid) == after
    assert [r["trace_id"] for r in receiver.listed()] == [tid]


def test_a_trace_whose_run_exists_is_left_alone(receiver: Receiver) -> None:
    _, spans = record(recovered_run)
    p = _parts(spans)
    tid = format(p["support-bot"].context.trace_id, "032x")
    receiver.export([p["support-bot"]])  # the root first (some exporters do)
    run_before, _ = receiver.stored(tid)
    assert run_before is not None and not run_before.provisional
    receiver.export([p["lookup_invoice"], p["get_weather"]])  # an error, a later end
    run, stored_spans = receiver.stored(tid)
    # left alone, but for its count of failed tool calls, which late spans update
    assert run_before.tool_errors == 0 and len(stored_spans) == 3
    assert run == replace(run_before, tool_errors=1)
