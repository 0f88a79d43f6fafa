"""The Pydantic AI producer of the OTLP corpus (``tests/otlp_corpus/generate_pydantic_ai.py``:
Pydantic AI's own OpenTelemetry instrumentation, GenAI semantic conventions with its message
``parts``), posted to the real receiver on SQLite and PostgreSQL in four arrival orders and read
back field by field: two named agents, the delegating tool nesting the second agent, model
calls with model, tokens, whole context (system instructions first) and parsed output, tool
calls with arguments, results and the retried call's error counted once."""

from __future__ import annotations

import pytest
from test_otlp_corpus_openai import (
    ORDERS,
    Receiver,
    assert_checked_clean,
    by_kind,
    edges,
    ingest,
    receiver,
)

from agentdeck.core.trace.model import SpanKind, SpanStatus

pytestmark = pytest.mark.slow
__all__ = ["receiver"]  # the fixture, shared with the OpenAI corpus tests

ANSWER = "It is sunny in Paris, 21 C."


@pytest.mark.parametrize("order", ORDERS)
def test_pydantic_ai_delegation(receiver: Receiver, order: str) -> None:
    run, spans = ingest(receiver, "pydantic-ai", order)
    agents = by_kind(spans, SpanKind.AGENT)
    assert [a.attributes.get("agent.name") for a in agents] == ["triage_agent", "weather_agent"]
    assert run.agent_name == "triage_agent"
    # the root agent's gen_ai.conversation.id (the delegate's run has its own)
    assert (run.session_id, run.user_id) == ("conv-42", None)

    llms = by_kind(spans, SpanKind.LLM)
    assert [s.usage.input_tokens if s.usage else None for s in llms] == [52, 61, 88, 104, 83]
    assert [s.usage.output_tokens if s.usage else None for s in llms] == [14, 12, 12, 10, 10]
    assert {s.attributes["llm.model"] for s in llms} == {"gpt-4o-mini"}
    contexts = [s.inputs["messages"] for s in llms if isinstance(s.inputs, dict)]
    assert [len(m) for m in contexts] == [2, 2, 4, 6, 4]  # system instructions + the history
    assert contexts[0][0] == {
        "role": "system",
        "content": "Ask the weather agent about the weather.",
    }
    assert contexts[3][1] == {"role": "user", "content": "What is the weather in Paris?"}
    assert contexts[3][3]["role"] == "tool"
    assert contexts[3][3]["tool_call_id"] == "call_w1"
    assert "unknown city: Atlantis" in contexts[3][3]["content"]
    out = [s.outputs["message"] for s in llms if isinstance(s.outputs, dict)]
    assert [
        [(c["id"], c["name"], c["arguments"]) for c in m.get("tool_calls", ())] for m in out
    ] == [
        [("call_t1", "ask_weather_agent", {"question": "What is the weather in Paris?"})],
        [("call_w1", "get_weather", {"city": "Atlantis"})],
        [("call_w2", "get_weather", {"city": "Paris"})],
        [],
        [],
    ]
    assert out[3]["content"] == out[4]["content"] == ANSWER

    tools = by_kind(spans, SpanKind.TOOL)
    assert [t.tool_name for t in tools] == ["ask_weather_agent", "get_weather", "get_weather"]
    delegate, failing, working = tools
    assert delegate.inputs == {"args": {"question": "What is the weather in Paris?"}}
    assert delegate.outputs == {"result": ANSWER}
    assert failing.inputs == {"args": {"city": "Atlantis"}}
    assert working.outputs == {"result": "sunny, 21 C"}
    assert failing.status is SpanStatus.ERROR and working.status is not SpanStatus.ERROR
    assert "unknown city: Atlantis" in (failing.error or "")
    assert run.tool_errors == 1
    # the delegating tool call is the weather agent's parent: the agents nest, no hand-off
    assert agents[1].parent_id == delegate.span_id
    assert edges(receiver, run.trace_id, "handoff") == []
    calls = {(e["source"], e["target"]) for e in edges(receiver, run.trace_id, "tool_call")}
    assert calls == {
        (llms[0].span_id, delegate.span_id),
        (llms[1].span_id, failing.span_id),
        (llms[2].span_id, working.span_id),
    }
    if not order.startswith("span-by-span"):
        assert run.output == ANSWER
    assert_checked_clean(receiver, run, order)
