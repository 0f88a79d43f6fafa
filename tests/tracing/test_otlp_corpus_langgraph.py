"""Conformance: OpenInference on LangChain/LangGraph, read field by field (issue 14).

The payload is the exact OTLP/HTTP body that ``openinference-instrumentation-langchain`` made
over a real two-agent LangGraph (``tests/otlp_corpus/generate.py``: ``triage`` hands off to
``billing`` with ``transfer_to_billing`` returning ``Command(graph=PARENT)``; ``billing``'s
``lookup_invoice`` fails once, then succeeds; ``refund_status`` has one parameter). It is posted
to the real receiver (uvicorn on the ``store`` fixture: SQLite and PostgreSQL) as produced,
reversed and shuffled, and what is stored is checked against what the graph did.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.otlp.decode import decode_otlp
from app_thread import serve_in_thread

CORPUS = Path(__file__).resolve().parent.parent / "otlp_corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
PAYLOAD = next(name for name in MANIFEST if name.startswith("langgraph_handoff."))
ORDERS = ("as-produced", "reversed", "shuffled")


def _body(order: str) -> bytes:
    request = ExportTraceServiceRequest()
    request.ParseFromString((CORPUS / PAYLOAD).read_bytes())
    if order == "as-produced":
        return request.SerializeToString()
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            spans = list(ss.spans)
            if order == "reversed":
                spans.reverse()
            else:
                random.Random(14).shuffle(spans)
            copies = [type(s)() for s in spans]
            for copy, span in zip(copies, spans, strict=True):
                copy.CopyFrom(span)
            del ss.spans[:]
            ss.spans.extend(copies)
    return request.SerializeToString()


@pytest.fixture(params=ORDERS)
def stored(request: pytest.FixtureRequest, store: SqlStore) -> Iterator[tuple[Run, list[Span]]]:
    token = create_key(store, "otel-collector", ["ingest"], "test").token
    app = create_app(store)
    url, stop = serve_in_thread(app)
    try:
        r = httpx.post(
            f"{url}/v1/traces",
            content=_body(request.param),
            headers={"Content-Type": "application/x-protobuf", "Authorization": f"Bearer {token}"},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        assert app.state.agentdeck.after_ingest.drain(20)
        runs = store.find_runs(RunQuery())
        assert len(runs) == 1  # one run per trace
        run = store.get_run(runs[0].trace_id)
        assert run is not None
        yield run, store.get_spans(run.trace_id)
    finally:
        stop()


def _of(spans: list[Span], kind: SpanKind) -> list[Span]:
    return sorted((s for s in spans if s.kind is kind), key=lambda s: s.seq)


def test_manifest_records_the_library_versions() -> None:
    entry = MANIFEST[PAYLOAD]
    assert entry["producer"] == "openinference-instrumentation-langchain"
    expected = f"langgraph_handoff.{entry['versions'][entry['producer']]}.bin"
    assert expected == PAYLOAD
    assert {"langgraph", "langchain-core", "opentelemetry-sdk"} <= set(entry["versions"])


def test_every_span_arrives_and_the_run_is_the_graph(stored: tuple[Run, list[Span]]) -> None:
    run, spans = stored
    assert len(spans) == MANIFEST[PAYLOAD]["spans"]
    root = next(s for s in spans if s.parent_id is None)
    assert run.root_span_id == root.span_id and root.name == "support"
    assert run.agent_name == "triage"  # the first agent, not the graph or a node
    assert (run.session_id, run.user_id) == ("conv-42", "u-7")  # OpenInference session.id, user.id
    assert run.status is SpanStatus.OK and run.error is None
    assert run.input == {"messages": [{"role": "user", "content": "Is invoice INV-7 paid?"}]}


def test_the_two_agents_are_named_and_internal_nodes_are_not_agents(
    stored: tuple[Run, list[Span]],
) -> None:
    _, spans = stored
    agents = _of(spans, SpanKind.AGENT)
    assert [(a.name, a.attributes.get("agent.name")) for a in agents] == [
        ("triage", "triage"),
        ("billing", "billing"),
    ]
    internal = {"agent", "tools", "call_model", "should_continue", "RunnableSequence", "Prompt"}
    assert internal <= {s.name for s in spans}  # they arrived ...
    assert all(s.kind is SpanKind.CUSTOM for s in spans if s.name in internal)  # ... as plumbing


def test_the_hand_off_links_the_two_agents(stored: tuple[Run, list[Span]]) -> None:
    _, spans = stored
    (handoff,) = _of(spans, SpanKind.HANDOFF)
    assert handoff.name == "transfer_to_billing"
    assert handoff.attributes["handoff.from"] == "triage"
    assert handoff.attributes["handoff.to"] == "billing"
    assert handoff.attributes["tool.call_id"] == "call_t1"
    assert handoff.outputs == {"result": "Transferred to billing"}
    assert handoff.status is SpanStatus.OK and handoff.error is None
    by_id = {s.span_id: s for s in spans}
    source, target = _of(spans, SpanKind.AGENT)
    parent = by_id[handoff.parent_id] if handoff.parent_id else None
    while parent is not None and parent.kind is not SpanKind.AGENT:
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    assert parent is source  # the edge starts inside triage ...
    assert target.start_ns >= handoff.end_ns  # ... and billing runs after it


def test_llm_calls_carry_model_tokens_context_and_parsed_output(
    stored: tuple[Run, list[Span]],
) -> None:
    _, spans = stored
    llms = _of(spans, SpanKind.LLM)
    assert [s.attributes["llm.model"] for s in llms] == ["scripted-triage"] + [
        "scripted-billing"
    ] * 4
    assert [(s.usage.input_tokens, s.usage.output_tokens) for s in llms if s.usage] == [
        (31, 7),
        (52, 11),
        (75, 11),
        (98, 9),
        (120, 14),
    ]
    first = llms[0]
    assert first.inputs["messages"] == [
        {"role": "system", "content": "You are triage. Route billing questions to billing."},
        {"role": "user", "content": "Is invoice INV-7 paid?"},
    ]
    assert first.outputs["message"]["tool_calls"][0]["name"] == "transfer_to_billing"
    assert first.outputs["message"]["tool_calls"][0]["id"] == "call_t1"
    calls = [s.outputs["message"]["tool_calls"][0] for s in llms[1:4]]
    assert [(c["id"], c["name"], c["arguments"]) for c in calls] == [
        ("call_b1", "lookup_invoice", {"invoice_id": "INV-7", "year": 2026}),
        ("call_b2", "lookup_invoice", {"invoice_id": "INV-7", "year": 2026}),
        ("call_b3", "refund_status", {"invoice_id": "INV-7"}),
    ]
    last = llms[-1]
    assert last.outputs["message"]["content"] == (
        "Invoice INV-7 is paid (42.00 EUR); no refund is open."
    )
    context: list[dict[str, Any]] = last.inputs["messages"]
    roles = ["system", "user", "tool", *["assistant", "tool"] * 3]
    assert [m["role"] for m in context] == roles
    results = [m.get("content") for m in context if m["role"] == "tool"]
    assert results[0] == "Transferred to billing"
    assert "invoice service unavailable" in results[1]  # the failed attempt, as the model saw it
    assert results[2:] == ["Invoice INV-7 (2026): 42.00 EUR, paid", "No refund open for INV-7"]


def test_tool_calls_carry_name_arguments_result_and_a_one_line_error(
    stored: tuple[Run, list[Span]],
) -> None:
    run, spans = stored
    tools = _of(spans, SpanKind.TOOL)
    assert [(t.tool_name, t.status) for t in tools] == [
        ("lookup_invoice", SpanStatus.ERROR),
        ("lookup_invoice", SpanStatus.OK),
        ("refund_status", SpanStatus.OK),
    ]
    failed, retried, refund = tools
    assert failed.inputs == {"args": {"invoice_id": "INV-7", "year": 2026}}
    assert failed.error == "ConnectionError: invoice service unavailable for INV-7"
    assert "Traceback (most recent call last):" in failed.attributes["exception.stacktrace"]
    assert retried.inputs == failed.inputs
    assert retried.outputs == {"result": "Invoice INV-7 (2026): 42.00 EUR, paid"}
    assert retried.attributes["tool.call_id"] == "call_b2"
    # refund_status's one argument arrives as the bare string "INV-7": named after the
    # model's tool call with the same id
    assert refund.inputs == {"args": {"invoice_id": "INV-7"}}
    assert "tool.arguments_note" not in refund.attributes
    assert refund.outputs == {"result": "No refund open for INV-7"}
    # errors counted once: the tool, not the node or graph spans around it
    assert [s.name for s in spans if s.status is SpanStatus.ERROR] == ["lookup_invoice"]
    assert [s.name for s in spans if s.error] == ["lookup_invoice"]
    # LangGraph's hand-off raises ParentCommand through OK spans: recorded, not a failure
    controlled = [
        s
        for s in spans
        for e in s.attributes.get("otel.events") or ()
        if e["attributes"].get("exception.type") == "langgraph.errors.ParentCommand"
    ]
    assert controlled and all(s.status is SpanStatus.OK for s in controlled)
    assert run.error is None


def test_a_bare_argument_without_its_model_call_is_kept_with_a_note() -> None:
    """The corpus's refund_status span sent alone (the model's call in another request)."""
    request = ExportTraceServiceRequest()
    request.ParseFromString((CORPUS / PAYLOAD).read_bytes())
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            kept = [s for s in ss.spans if s.name == "refund_status"]
            copies = [type(s)() for s in kept]
            for copy, span in zip(copies, kept, strict=True):
                copy.CopyFrom(span)
            del ss.spans[:]
            ss.spans.extend(copies)
    result = decode_otlp(request.SerializeToString(), "application/x-protobuf")
    (span,) = result.spans
    assert span.kind is SpanKind.TOOL and span.tool_name == "refund_status"
    assert span.inputs == {"args": "INV-7"}
    assert span.attributes["tool.arguments_note"] == (
        "bare value as sent by the producer; parameter name unknown"
    )
    assert span.outputs == {"result": "No refund open for INV-7"}
    assert span.attributes["tool.call_id"] == "call_b3"
