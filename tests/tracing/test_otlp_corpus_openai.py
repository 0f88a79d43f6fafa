"""The OpenAI-side OTLP corpus (``tests/otlp_corpus``, made by the real instrumentation
libraries: see ``generate_openai.py``) posted to the real receiver (uvicorn on the ``store``
fixture: SQLite and PostgreSQL), in one request or one span per request, in the original order
and reversed, and read back field by field: one run per trace, every agent named, the run's
agent, hand-off and tool-call edges, model calls with model, tokens, whole input context and
parsed output, tool calls with arguments, result and error, errors counted once, and no
``task_incomplete`` finding for a run whose spans ended UNSET or OK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.server.deps import ServerState
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.queries import execution_graph, load_trace
from app_thread import serve_in_thread

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).parent.parent / "otlp_corpus"
MANIFEST = json.loads((CORPUS / "manifest_openai.json").read_text())["producers"]
ORDERS = ["one-request", "one-request-reversed", "span-by-span", "span-by-span-reversed"]


@dataclass
class Receiver:
    url: str
    store: SqlStore
    token: str
    state: ServerState

    def post(self, request: ExportTraceServiceRequest) -> None:
        r = httpx.post(
            f"{self.url}/v1/traces",
            content=request.SerializeToString(),
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/x-protobuf",
            },
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert self.state.after_ingest.drain(30)


@pytest.fixture
def receiver(store: SqlStore) -> Iterator[Receiver]:
    token = create_key(store, "corpus", ["ingest"], "test").token
    app = create_app(store)
    url, stop = serve_in_thread(app)
    try:
        yield Receiver(url, store, token, app.state.agentdeck)
    finally:
        stop()


def requests_for(producer: str, order: str) -> list[ExportTraceServiceRequest]:
    """The stored body, re-cut: whole or one span per request, original or reversed order."""
    body = (CORPUS / MANIFEST[producer]["file"]).read_bytes()
    whole = ExportTraceServiceRequest.FromString(body)
    flat = [
        (rs, ss, span) for rs in whole.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]
    if order.endswith("reversed"):
        flat.reverse()
    groups = [flat] if order.startswith("one-request") else [[x] for x in flat]
    out = []
    for group in groups:
        req = ExportTraceServiceRequest()
        for rs, ss, span in group:
            new_rs = req.resource_spans.add()
            new_rs.resource.CopyFrom(rs.resource)
            new_ss = new_rs.scope_spans.add()
            new_ss.scope.CopyFrom(ss.scope)
            new_ss.spans.add().CopyFrom(span)
        out.append(req)
    return out


def ingest(receiver: Receiver, producer: str, order: str) -> tuple[Run, list[Span]]:
    for req in requests_for(producer, order):
        receiver.post(req)
    runs = receiver.store.find_runs(RunQuery())
    assert len(runs) == 1, [r.trace_id for r in runs]  # one run per trace
    run = receiver.store.get_run(runs[0].trace_id)
    assert run is not None
    spans = receiver.store.get_spans(run.trace_id)
    assert len(spans) == MANIFEST[producer]["spans"]
    return run, spans


def by_kind(spans: list[Span], kind: SpanKind) -> list[Span]:
    return sorted((s for s in spans if s.kind is kind), key=lambda s: (s.start_ns, s.seq))


def edges(receiver: Receiver, trace_id: str, kind: str) -> list[dict[str, Any]]:
    graph = execution_graph(load_trace(receiver.store, trace_id))
    return [e for e in graph["edges"] if e["kind"] == kind]


def assert_checked_clean(receiver: Receiver, run: Run, order: str) -> None:
    """The per-run checks (what ``agentdeck check`` runs) found no incomplete task."""
    if order.startswith("span-by-span"):
        return  # the root alone carries no output: the run is only as complete as its root
    assert run.status is SpanStatus.OK
    checks = [f.check for f in receiver.store.list_findings(trace_id=run.trace_id)]
    assert "task_incomplete" not in checks


def assert_weather_tools(tools: list[Span]) -> None:
    failing, working = tools
    assert failing.tool_name == working.tool_name == "get_weather"
    assert failing.inputs == {"args": {"city": "Atlantis"}}
    assert working.inputs == {"args": {"city": "Paris"}}
    assert working.outputs == {"result": "sunny, 21 C"}
    assert failing.status is SpanStatus.ERROR and working.status is not SpanStatus.ERROR
    assert failing.error is not None and working.error is None


@pytest.mark.parametrize("order", ORDERS)
def test_openinference_openai_agents(receiver: Receiver, order: str) -> None:
    run, spans = ingest(receiver, "openinference-openai-agents", order)
    agents = by_kind(spans, SpanKind.AGENT)
    assert [a.attributes.get("agent.name") for a in agents] == ["triage_agent", "weather_agent"]
    assert run.agent_name == "triage_agent"  # the root ("Agent workflow") names no agent
    assert (run.session_id, run.user_id) == ("conv-42", "u-7")  # session.id, user.id

    (handoff,) = by_kind(spans, SpanKind.HANDOFF)
    assert handoff.attributes["handoff.to"] == "weather_agent"
    (edge,) = edges(receiver, run.trace_id, "handoff")
    assert (edge["source"], edge["target"]) == (agents[0].span_id, agents[1].span_id)

    llms = by_kind(spans, SpanKind.LLM)
    assert len(llms) == 4
    assert [s.usage.input_tokens if s.usage else None for s in llms] == [40, 60, 80, 95]
    assert [s.usage.output_tokens if s.usage else None for s in llms] == [9, 12, 12, 10]
    assert {s.attributes["llm.model"] for s in llms} == {"gpt-4o-mini-2024-07-18"}
    contexts = [s.inputs["messages"] for s in llms if isinstance(s.inputs, dict)]
    assert [len(m) for m in contexts] == [1, 3, 5, 7]  # the whole history each time
    assert contexts[3][0] == {"role": "user", "content": "What is the weather in Paris?"}
    assert contexts[3][4] == {
        "role": "tool",
        "content": "An error occurred while running the tool. Please try again.",
        "tool_call_id": "call_w1",
    }
    assert contexts[3][5]["tool_calls"][0]["arguments"] == {"city": "Paris"}
    calls = [s.outputs["message"].get("tool_calls") for s in llms if isinstance(s.outputs, dict)]
    assert [[(c["id"], c["name"]) for c in cs or ()] for cs in calls] == [
        [("call_h1", "transfer_to_weather_agent")],
        [("call_w1", "get_weather")],
        [("call_w2", "get_weather")],
        [],
    ]
    assert llms[3].outputs == {
        "message": {"role": "assistant", "content": "It is sunny in Paris, 21 C."}
    }

    tools = by_kind(spans, SpanKind.TOOL)
    assert_weather_tools(tools)
    assert "Tool execution failed" in (tools[0].error or "")
    assert run.tool_errors == 1  # counted once
    if not order.startswith("span-by-span"):
        assert run.output == "It is sunny in Paris, 21 C."
    assert_checked_clean(receiver, run, order)


def _chat_loop_llms(spans: list[Span]) -> list[Span]:
    llms = by_kind(spans, SpanKind.LLM)
    assert len(llms) == 3
    assert [s.usage.input_tokens if s.usage else None for s in llms] == [50, 75, 99]
    assert [s.usage.output_tokens if s.usage else None for s in llms] == [11, 11, 8]
    contexts = [s.inputs["messages"] for s in llms if isinstance(s.inputs, dict)]
    assert [len(m) for m in contexts] == [2, 4, 6]
    assert contexts[2][0] == {"role": "system", "content": "You answer weather questions."}
    assert contexts[2][3]["tool_call_id"] == "call_c1"
    assert contexts[2][3]["content"] == "error: unknown city: Atlantis"
    out = [s.outputs["message"] for s in llms if isinstance(s.outputs, dict)]
    assert [[(c["id"], c["arguments"]) for c in m.get("tool_calls", ())] for m in out] == [
        [("call_c1", {"city": "Atlantis"})],
        [("call_c2", {"city": "Paris"})],
        [],
    ]
    assert out[2]["content"] == "It is sunny in Paris."
    return llms


def _tool_call_edges_match(
    receiver: Receiver, run: Run, llms: list[Span], tools: list[Span]
) -> None:
    found = {
        (e["source"], e["target"], e["call_id"]) for e in edges(receiver, run.trace_id, "tool_call")
    }
    assert found == {
        (llms[0].span_id, tools[0].span_id, "call_c1"),
        (llms[1].span_id, tools[1].span_id, "call_c2"),
    }


@pytest.mark.parametrize("order", ORDERS)
def test_openinference_openai(receiver: Receiver, order: str) -> None:
    run, spans = ingest(receiver, "openinference-openai", order)
    (agent,) = by_kind(spans, SpanKind.AGENT)
    assert agent.attributes["agent.name"] == run.agent_name == "weather_bot"
    assert (run.session_id, run.user_id) == ("conv-42", "u-7")
    llms = _chat_loop_llms(spans)
    assert {s.attributes["llm.model"] for s in llms} == {"gpt-4o-mini-2024-07-18"}
    tools = by_kind(spans, SpanKind.TOOL)
    assert_weather_tools(tools)
    assert [t.attributes.get("tool.call_id") for t in tools] == ["call_c1", "call_c2"]
    assert tools[0].error == "ValueError: unknown city: Atlantis"
    assert run.tool_errors == 1  # two exception events on one span: one error
    _tool_call_edges_match(receiver, run, llms, tools)
    assert_checked_clean(receiver, run, order)


@pytest.mark.parametrize("order", ORDERS)
def test_otel_openai_v2(receiver: Receiver, order: str) -> None:
    run, spans = ingest(receiver, "otel-openai-v2", order)
    (agent,) = by_kind(spans, SpanKind.AGENT)
    assert agent.attributes["agent.name"] == run.agent_name == "weather_bot"
    assert (run.session_id, run.user_id) == ("conv-42", None)  # gen_ai.conversation.id
    assert agent.status is SpanStatus.UNSET  # the producer leaves success UNSET
    llms = _chat_loop_llms(spans)
    assert {s.attributes["llm.model"] for s in llms} == {"gpt-4o-mini"}
    assert {s.attributes["llm.response_model"] for s in llms} == {"gpt-4o-mini-2024-07-18"}
    tools = by_kind(spans, SpanKind.TOOL)
    assert_weather_tools(tools)
    assert tools[0].error == "unknown city: Atlantis"
    assert run.tool_errors == 1
    _tool_call_edges_match(receiver, run, llms, tools)
    if not order.startswith("span-by-span"):
        assert run.output == "It is sunny in Paris."
    assert_checked_clean(receiver, run, order)
