"""The Traceloop (OpenLLMetry) producer of the OTLP corpus
(``tests/otlp_corpus/generate_traceloop.py``: traceloop-sdk's ``@agent`` and ``@tool`` over
its OpenAI instrumentation), posted to the real receiver on SQLite and PostgreSQL in four
arrival orders and read back field by field: the agent named, model calls with model, tokens,
whole context and parsed output, tool calls with their arguments (Traceloop's
``{"args": [...], "kwargs": {...}}`` envelope opened), results, the failed call's error counted
once, and the run's input and output."""

from __future__ import annotations

import pytest
from test_otlp_corpus_openai import (
    ORDERS,
    Receiver,
    _chat_loop_llms,
    assert_checked_clean,
    assert_weather_tools,
    by_kind,
    ingest,
    receiver,
)

from agentdeck.core.trace.model import SpanKind

pytestmark = pytest.mark.slow
__all__ = ["receiver"]  # the fixture, shared with the OpenAI corpus tests


@pytest.mark.parametrize("order", ORDERS)
def test_traceloop(receiver: Receiver, order: str) -> None:
    run, spans = ingest(receiver, "traceloop", order)
    (agent,) = by_kind(spans, SpanKind.AGENT)
    assert agent.attributes["agent.name"] == run.agent_name == "weather_bot"
    assert (run.session_id, run.user_id) == ("conv-42", "u-7")  # association properties
    llms = _chat_loop_llms(spans)
    assert {s.attributes["llm.model"] for s in llms} == {"gpt-4o-mini"}
    tools = by_kind(spans, SpanKind.TOOL)
    assert_weather_tools(tools)
    assert tools[0].error == "unknown city: Atlantis"
    assert run.tool_errors == 1
    if not order.startswith("span-by-span"):
        assert run.input == "What is the weather in Paris?"
        assert run.output == "It is sunny in Paris."
    assert_checked_clean(receiver, run, order)
