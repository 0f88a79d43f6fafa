"""An LLM span is named ``chat <model>``: never ``chat None`` when the call gives no model."""

from __future__ import annotations

from sdk_support import BOT, sink, spans_of

from agentdeck.core.trace.model import SpanKind
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.tracing.sdk import api as sdk

__all__ = ["sink"]  # the fixture, imported for pytest


def _llm_names(s: sdk.InMemorySink, trace_id: str) -> list[str]:
    return [sp.name for sp in spans_of(s, trace_id, SpanKind.LLM)]


def test_a_call_without_a_model_or_agent_is_named_chat(sink: sdk.InMemorySink) -> None:
    messages = [{"role": "user", "content": "q"}]
    # no agent: no spec to take a model from
    with sdk.run(input="q") as run, sdk.llm(messages=messages) as call:
        call.record(ModelResponse.assistant("hi"))
    assert _llm_names(sink, run.trace_id) == ["chat"]


def test_the_provider_names_a_call_without_a_model(sink: sdk.InMemorySink) -> None:
    with sdk.run(input="q") as run, sdk.llm(messages=[], provider="scripted") as call:
        call.record(ModelResponse.assistant("hi"))
    assert _llm_names(sink, run.trace_id) == ["chat scripted"]


def test_the_model_that_answered_names_the_call(sink: sdk.InMemorySink) -> None:
    with sdk.run(input="q") as run, sdk.llm(messages=[]) as call:
        call.record(ModelResponse(message={"role": "assistant", "content": "hi"}, model="m-1"))
    assert _llm_names(sink, run.trace_id) == ["chat m-1"]


def test_the_agents_model_names_the_call(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run, sdk.llm(messages=[]) as call:
        call.record(ModelResponse.assistant("hi"))
    assert _llm_names(sink, run.trace_id) == [f"chat {BOT.spec.model.id}"]
    assert not any("None" in n for n in _llm_names(sink, run.trace_id))
