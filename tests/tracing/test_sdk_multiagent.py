"""Multi-agent work: handoffs and nested agent spans in one trace."""

from __future__ import annotations

from sdk_support import BOT, HELPER, by_id, sink, spans_of

from agentdeck.core.trace.model import SpanKind
from agentdeck.tracing.sdk import api as sdk

__all__ = ["sink"]


@sdk.tool
def refund(amount: int | None = None) -> str:
    return "ok"


def test_handoff_opens_a_nested_agent_span_under_a_handoff_span(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent="support-bot@production", input="refund me") as run:
        with sdk.handoff("billing-bot@1", input={"order": 9}, reason="billing question") as sub:
            assert sdk.current_run() is sub and sub.agent == HELPER
            assert sub.trace_id == run.trace_id
            refund(amount="ten")  # invalid for billing-bot's pinned schema: an integer
            sub.set_output("refunded")
        assert sdk.current_run() is run
    spans = spans_of(sink, run.trace_id)
    ids = by_id(spans)
    (hand,) = [s for s in spans if s.kind is SpanKind.HANDOFF]
    agents = [s for s in spans if s.kind is SpanKind.AGENT]
    (tool,) = [s for s in spans if s.kind is SpanKind.TOOL]
    inner = ids[tool.parent_id or ""]
    assert inner.kind is SpanKind.AGENT and inner.attributes["agent.name"] == "billing-bot"
    assert inner.parent_id == hand.span_id and hand.parent_id == run.span_id
    assert hand.attributes["handoff.from"] == "support-bot"
    assert hand.attributes["handoff.to"] == "billing-bot@1"
    assert hand.attributes["handoff.reason"] == "billing question"
    assert hand.outputs == "refunded" and inner.outputs == {"output": "refunded"}
    assert tool.attributes["tool.args_valid"] is False  # validated against the helper's spec
    assert len(agents) == 2
    assert [r.trace_id for r in sink.runs] == [run.trace_id]  # one run for the whole trace


def test_nested_run_is_a_nested_agent_span_in_the_same_trace(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as outer, sdk.run(agent=HELPER, input="sub-q") as inner:
        assert inner.trace_id == outer.trace_id and inner.span_id != outer.span_id
        refund(amount=3)
    spans = spans_of(sink, outer.trace_id)
    ids = by_id(spans)
    assert ids[inner.span_id].parent_id == outer.span_id
    (tool,) = [s for s in spans if s.kind is SpanKind.TOOL]
    assert tool.parent_id == inner.span_id and tool.attributes["tool.args_valid"] is True
    assert len(sink.runs) == 1 and sink.runs[0].agent_name == "support-bot"
