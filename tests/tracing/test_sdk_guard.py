"""The tool guard (policy seam) and the tool interceptor (replay seam)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sdk_support import BOT, by_id, sink, spans_of, start

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import LinkKind, SpanKind, SpanStatus
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.guard import CallOutcome, Intercepted, ToolCallInfo, intercepting
from agentdeck.tracing.sdk.recorder import emit_linked_span

__all__ = ["sink"]
ran: list[str] = []


@sdk.tool
def weather(city: str) -> str:
    ran.append(city)
    return f"sunny in {city}"


class MaxTwoOslo:
    """Denies 'Paris', and any call after two allowed ones; records a policy span per decision."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, int], list[tuple[str, CallOutcome]], int]] = []

    def check(self, call: ToolCallInfo) -> None:
        t0 = time.time_ns()
        self.seen.append(
            (
                dict(call.run.counts),
                [(c.args["city"], c.outcome) for c in call.run.calls],
                call.step,
            )
        )
        assert call.agent is BOT and call.tool_spec is not None and call.env == "production"
        ok = sum(1 for c in call.run.calls if c.outcome is CallOutcome.OK)
        denied = call.args["city"] == "Paris" or ok >= 2
        emit_linked_span(call, name="policy weather", start_ns=t0, end_ns=time.time_ns(),
                         outputs={"effect": "deny" if denied else "allow"})  # fmt: skip
        if denied:
            raise PolicyDenied(call.tool, ["no-paris"], "not allowed")


def test_guard_denial_stops_the_tool_and_reaches_the_agent(tmp_path: Path) -> None:
    guard = MaxTwoOslo()
    sink = start(tmp_path, guard=guard)
    try:
        ran.clear()
        with sdk.run(agent=BOT) as run:
            assert weather("Oslo") == "sunny in Oslo"
            with pytest.raises(PolicyDenied, match="no-paris"):
                weather("Paris")
            weather("Oslo")
            with pytest.raises(PolicyDenied):
                weather("Oslo")  # two calls already succeeded
        assert ran == ["Oslo", "Oslo"]
        assert guard.seen[2] == (
            {"weather": 2},
            [("Oslo", CallOutcome.OK), ("Paris", CallOutcome.DENIED)],
            2,
        )
        spans = spans_of(sink, run.trace_id)
        tools = [s for s in spans if s.kind is SpanKind.TOOL]
        policies = [s for s in spans if s.kind is SpanKind.POLICY]
        assert [t.status for t in tools] == [
            SpanStatus.OK,
            SpanStatus.ERROR,
            SpanStatus.OK,
            SpanStatus.ERROR,
        ]
        assert tools[1].attributes["tool.denied"] is True
        assert tools[1].attributes["policy.rules"] == ["no-paris"]
        assert tools[1].outputs is None
        ids = by_id(tools)
        for p in policies:
            (lk,) = p.links
            assert lk.kind is LinkKind.POLICY and lk.span_id == p.parent_id and lk.span_id in ids
        assert [p.outputs["effect"] for p in policies] == ["allow", "deny", "allow", "deny"]
    finally:
        sdk.shutdown()


def test_a_broken_guard_fails_closed(tmp_path: Path) -> None:
    class Broken:
        def check(self, call: ToolCallInfo) -> None:
            raise RuntimeError("cel exploded")

    sink = start(tmp_path, guard=Broken())
    try:
        ran.clear()
        with sdk.run(agent=BOT) as run, pytest.raises(PolicyDenied, match="cel exploded"):
            weather("Oslo")
        assert ran == []
        (span,) = spans_of(sink, run.trace_id, SpanKind.TOOL)
        assert span.attributes["tool.denied"] is True
    finally:
        sdk.shutdown()


class Recording:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def intercept(self, call: ToolCallInfo) -> Intercepted | None:
        city = call.args["city"]
        if city not in self.answers:
            return None
        answer = self.answers[city]
        if isinstance(answer, BaseException):
            raise answer
        return Intercepted(answer)


def test_interceptor_serves_recorded_results_and_errors(sink: sdk.InMemorySink) -> None:
    ran.clear()
    rec = Recording({"Oslo": "recorded rain", "Rome": TimeoutError("recorded timeout")})
    with sdk.run(agent=BOT) as run:
        with intercepting(rec):
            assert weather("Oslo") == "recorded rain"
            with pytest.raises(TimeoutError, match="recorded timeout"):
                weather("Rome")
            assert weather("Bergen") == "sunny in Bergen"  # not recorded: the tool runs
        assert weather("Oslo") == "sunny in Oslo"  # outside the block: real tool
    assert ran == ["Bergen", "Oslo"]
    tools = spans_of(sink, run.trace_id, SpanKind.TOOL)
    assert [t.attributes.get("tool.intercepted", False) for t in tools] == [
        True,
        True,
        False,
        False,
    ]
    assert tools[0].outputs == {"result": "recorded rain"}
    assert tools[1].attributes["error.type"] == "TimeoutError"


def test_run_history_is_bounded_but_counts_stay_exact() -> None:
    from agentdeck.tracing.sdk import guard as g

    state = g.RunState(0.0)
    limit = g.MAX_CALL_HISTORY
    for i in range(limit + 5):
        state.record(g.ToolCallRecord("t", {"i": i}, g.CallOutcome.OK, f"{i:016x}"))
    assert len(state.calls) == limit and state.dropped_calls == 5
    assert state.counts["t"] == limit + 5
    assert state.calls[0].args == {"i": 0}  # append-only: what readers saw stays in place
