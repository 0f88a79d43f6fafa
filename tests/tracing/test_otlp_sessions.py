"""The session and user of an OTLP trace: read on any span (not only the root), under each
producer's name, the same whatever the order of the spans in the request; the run stamp's own
values win; the SDK's wire batch carries them."""

from __future__ import annotations

import random

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.trace import Tracer

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_trace_id
from agentdeck.tracing.otlp.decode import decode_otlp, decode_request
from agentdeck.tracing.otlp.map_out import spans_to_otlp
from agentdeck.tracing.sdk.wire import batch_from_bytes, batch_to_bytes, run_from_dict
from tracing.otel_fixtures import record


def _agent(session_key: str, user_key: str):  # type: ignore[no-untyped-def]
    def build(tracer: Tracer) -> None:
        with tracer.start_as_current_span(
            "invoke_agent bot",
            attributes={"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "bot"},
        ):
            with tracer.start_as_current_span("chat m", attributes={session_key: "s-1"}):
                pass
            with tracer.start_as_current_span("execute_tool t", attributes={user_key: "u-1"}):
                pass

    return build


@pytest.mark.parametrize(
    ("session_key", "user_key"),
    [("session.id", "user.id"), ("gen_ai.conversation.id", "enduser.id")],
)
def test_session_and_user_from_child_spans_in_any_order(session_key: str, user_key: str) -> None:
    _, spans = record(_agent(session_key, user_key))
    rng = random.Random(7)
    for _ in range(6):
        rng.shuffle(spans)
        result = decode_request(encode_spans(spans))
        (run,) = result.runs
        assert (run.agent_name, run.session_id, run.user_id) == ("bot", "s-1", "u-1")


def test_provisional_run_gets_them_from_its_spans() -> None:
    _, spans = record(_agent("session.id", "user.id"))
    children = [s for s in spans if s.parent is not None]
    result = decode_request(encode_spans(children))
    assert result.runs == ()
    (prov,) = result.provisional_runs
    assert (prov.session_id, prov.user_id) == ("s-1", "u-1")


def test_run_stamp_round_trips_and_wins() -> None:
    tid = new_trace_id()
    root = Span(tid, "a" * 16, None, "bot", SpanKind.AGENT, 1, 9,
                attributes={"session.id": "other"})  # fmt: skip
    run = Run(tid, "bot", None, None, None, None, 1, 9, SpanStatus.OK,
              root_span_id="a" * 16, session_id="conv-7", user_id="ada")  # fmt: skip
    body = spans_to_otlp([root], [run]).SerializeToString()
    (got,) = decode_otlp(body, "application/x-protobuf").runs
    assert (got.session_id, got.user_id) == ("conv-7", "ada")


def test_wire_batch_carries_them_and_rejects_a_non_text_id() -> None:
    run = Run(new_trace_id(), "bot", None, None, None, None, 1, 2, session_id="s", user_id="u")
    runs, _ = batch_from_bytes(batch_to_bytes([run], []))
    assert runs == [run]
    with pytest.raises(InputError, match="session_id"):
        run_from_dict({"trace_id": "x", "start_ns": 1, "session_id": 3}, "batch.runs[0]")
