"""LangChain / LangGraph integration: the callback handler's spans for a ReAct graph driven by a
fake chat model, and policy enforcement on LangChain tools."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from integ_support import AGENT, DenyCity, guarded, of_kind, sink, trace_spans

# langchain-core and langgraph are dev dependencies: missing, they fail the run (never a skip).
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool
from langchain_core.utils.function_calling import convert_to_openai_tool

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import SpanKind, SpanStatus, TokenUsage
from agentdeck.integrations.langchain import AgentdeckCallbackHandler, guard_tool
from agentdeck.policy import enforcer
from agentdeck.tracing.sdk import api as sdk

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from langgraph.prebuilt import create_react_agent

__all__ = ["guarded", "sink"]
ran: list[str] = []


class ToolCallingFake(GenericFakeChatModel):
    """GenericFakeChatModel that accepts bound tools (they reach the callbacks' params)."""

    def bind_tools(self, tools: Any, **kw: Any) -> Any:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kw)


@tool
def get_weather(city: str) -> str:
    """Weather for a city."""
    ran.append(city)
    return f"sunny in {city}"


def model(city: str = "Oslo") -> ToolCallingFake:
    return ToolCallingFake(messages=iter([
        AIMessage(content="", tool_calls=[{"name": "get_weather", "args": {"city": city},
                                           "id": "call_1", "type": "tool_call"}],
                  usage_metadata={"input_tokens": 12, "output_tokens": 4, "total_tokens": 16}),
        AIMessage(content="It is sunny.",
                  usage_metadata={"input_tokens": 20, "output_tokens": 5, "total_tokens": 25}),
    ]))  # fmt: skip


def graph(tools: list[Any], city: str = "Oslo") -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return create_react_agent(model(city), tools)


def ask(g: Any, handler: Any = None, q: str = "Weather in Oslo?") -> Any:
    config = {"callbacks": [handler]} if handler is not None else {}
    return g.invoke({"messages": [HumanMessage(q)]}, config=config)


def test_handler_records_the_graph_as_a_run_of_chains_llms_and_tools(sink: Any) -> None:
    ran.clear()
    out = ask(graph([get_weather]), AgentdeckCallbackHandler(agent=AGENT))
    assert out["messages"][-1].content == "It is sunny." and ran == ["Oslo"]
    spans = trace_spans(sink)
    by_id = {s.span_id: s for s in spans}
    (root,) = [s for s in spans if s.parent_id is None]
    assert root.kind is SpanKind.AGENT and root.attributes["agent.name"] == "support-bot"
    (run_rec,) = sink.runs
    assert run_rec.agent_name == "support-bot" and run_rec.root_span_id == root.span_id
    llm1, llm2 = of_kind(spans, SpanKind.LLM)
    (tool_span,) = of_kind(spans, SpanKind.TOOL)
    # parent/child: every span hangs off the run; llm calls sit in the "agent" node
    for s in spans:
        p, hops = s, 0
        while p.parent_id is not None:
            p, hops = by_id[p.parent_id], hops + 1
        assert p is root
    assert by_id[llm1.parent_id].attributes.get("langchain.type") == "chain"
    assert any(by_id[a].name == "tools" for a in _ancestors(tool_span, by_id))
    assert llm1.inputs["messages"] == [{"role": "user", "content": "Weather in Oslo?"}]
    assert llm1.inputs["tools"][0]["name"] == "get_weather"
    assert llm1.inputs["tools"][0]["input_schema"]["properties"] == {"city": {"type": "string"}}
    assert llm1.outputs["message"]["tool_calls"] == [
        {"id": "call_1", "name": "get_weather", "arguments": {"city": "Oslo"}}]  # fmt: skip
    assert llm1.usage == TokenUsage(12, 4)
    assert tool_span.name == "get_weather" and tool_span.inputs == {"args": {"city": "Oslo"}}
    assert tool_span.outputs == {"result": "sunny in Oslo"}
    assert tool_span.attributes["tool.call_id"] == "call_1"
    assert [lk.span_id for lk in tool_span.links] == [llm1.span_id]
    assert tool_span.span_id in [lk.span_id for lk in llm2.links]
    assert llm2.inputs["messages"][-1] == {"role": "tool", "content": "sunny in Oslo",
                                           "tool_call_id": "call_1", "name": "get_weather"}  # fmt: skip
    assert llm2.outputs["message"]["content"] == "It is sunny."


def _ancestors(span: Any, by_id: dict[str, Any]) -> list[str]:
    out = []
    while span.parent_id is not None:
        out.append(span.parent_id)
        span = by_id[span.parent_id]
    return out


def test_inside_an_agentdeck_run_the_graph_nests_under_it(sink: Any) -> None:
    with sdk.run(agent=AGENT, input="q") as run:
        ask(graph([get_weather]), AgentdeckCallbackHandler())
    spans = trace_spans(sink)
    (root,) = [s for s in spans if s.parent_id is None]
    assert root.span_id == run.span_id and len(sink.runs) == 1
    graph_span = next(s for s in spans if s.parent_id == root.span_id)
    assert graph_span.kind is SpanKind.CUSTOM and graph_span.attributes["langchain.type"] == "chain"
    assert len(of_kind(spans, SpanKind.LLM)) == 2 and len(of_kind(spans, SpanKind.TOOL)) == 1


def test_guarded_tool_denied_by_policy_does_not_run(guarded: tuple[Any, DenyCity]) -> None:
    sink, guard = guarded
    ran.clear()
    with pytest.raises(PolicyDenied) as info:
        ask(graph([guard_tool(get_weather)], city="Atlantis"), AgentdeckCallbackHandler(AGENT))
    assert info.value.rules == ["no-atlantis"]
    assert ran == [] and guard.checked == [("get_weather", {"city": "Atlantis"})]
    spans = trace_spans(sink)
    by_id = {s.span_id: s for s in spans}
    (tool_span,) = of_kind(spans, SpanKind.TOOL)  # recorded once, by the guarded path
    (llm1,) = of_kind(spans, SpanKind.LLM)
    assert tool_span.attributes["tool.denied"] is True and tool_span.status is SpanStatus.ERROR
    assert tool_span.attributes["policy.rules"] == ["no-atlantis"]
    assert [lk.span_id for lk in tool_span.links] == [llm1.span_id]
    assert any(by_id[a].name == "tools" for a in _ancestors(tool_span, by_id))


def test_guarded_tool_allowed_runs_once_with_one_span(guarded: tuple[Any, DenyCity]) -> None:
    sink, guard = guarded
    ran.clear()
    out = ask(graph([guard_tool(get_weather)]), AgentdeckCallbackHandler(AGENT))
    assert out["messages"][-1].content == "It is sunny." and ran == ["Oslo"]
    (tool_span,) = of_kind(trace_spans(sink), SpanKind.TOOL)
    assert tool_span.outputs == {"result": "sunny in Oslo"}
    assert tool_span.attributes["tool.args_valid"] is True  # validated against AGENT's pin
    assert guard.checked == [("get_weather", {"city": "Oslo"})]


def test_guarded_tool_without_handler_is_checked_inside_a_run(
    guarded: tuple[Any, DenyCity],
) -> None:
    sink, _ = guarded
    checked = guard_tool(get_weather)
    with sdk.run(agent=AGENT, input="q") as run:
        assert checked.invoke({"city": "Oslo"}) == "sunny in Oslo"
        with pytest.raises(PolicyDenied):
            checked.invoke({"city": "Atlantis"})
    allowed, denied = of_kind(trace_spans(sink), SpanKind.TOOL)
    assert allowed.parent_id == denied.parent_id == run.span_id
    assert "tool.denied" not in allowed.attributes and denied.attributes["tool.denied"] is True


def test_guard_tool_keeps_the_tool_interface() -> None:
    checked = guard_tool(get_weather)
    assert checked.name == "get_weather" and checked.args == get_weather.args
    assert guard_tool(checked) is checked
    assert checked.invoke({"city": "Rome"}) == "sunny in Rome"  # no SDK: plain pass-through
    with pytest.raises(TypeError):
        guard_tool(lambda: None)


def test_real_policy_guard_with_the_example_policy_denies_a_large_refund(tmp_path: Any) -> None:
    from pathlib import Path

    from agentdeck.core.spec.agent import ResolvedAgent
    from agentdeck.registry.specfile import load_agent_spec, load_policy_spec

    example = Path(__file__).resolve().parents[2] / "examples" / "support-bot"
    policy = load_policy_spec(example / "policy.yaml")
    spec = load_agent_spec(example / "agent.v1.yaml")
    assert spec.policy is not None
    agent = ResolvedAgent(spec.name, 1, spec.digest, spec, env="dev")

    class Source:
        def get_policy(self, ref: str) -> Any:
            assert ref == spec.policy
            return policy

    refunds: list[float] = []

    @tool
    def issue_refund(order_id: str, amount: float, reason: str) -> str:
        """Refund an order."""
        refunds.append(amount)
        return "issued"

    sink = sdk.InMemorySink()
    sdk.init(sink=sink, spill_dir=tmp_path / "spill", schedule_delay=0.02,
             guard=enforcer.PolicyGuard(Source()))  # fmt: skip
    try:
        with sdk.run(agent=agent, input="refund please"), pytest.raises(PolicyDenied) as info:
            guard_tool(issue_refund).invoke({"order_id": "A1", "amount": 900, "reason": "late"})
        spans = trace_spans(sink)
    finally:
        sdk.shutdown(timeout=5)
    assert refunds == [] and "refund-hard-limit" in info.value.rules
    (tool_span,) = of_kind(spans, SpanKind.TOOL)
    (decision,) = of_kind(spans, SpanKind.POLICY)
    assert tool_span.attributes["tool.denied"] is True
    assert decision.parent_id == tool_span.span_id and decision.outputs["effect"] == "deny"
