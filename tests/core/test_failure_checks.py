"""Issue 15 point 4: checks explain failed outcomes, mark recovered errors, know handed-off
agents' tools."""

from __future__ import annotations

from dataclasses import replace

from behaviour_factory import SPEC, TRACE, llm, policy, run, sid, simple_view, tool

from agentdeck.core.behaviour.profile import build_profile
from agentdeck.core.behaviour.run_checks import Finding, Severity, check_run
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace.model import Outcome, Span, SpanKind, SpanStatus

# the baseline's successful runs: look the reservation up, then search (cancel)
BASELINE = build_profile([simple_view(["lookup", "search"]) for _ in range(80)])


def _failed(spans: list[Span]) -> RunView:
    return RunView.from_run(replace(run(), outcome=Outcome.FAILURE), spans)


def _of(findings: list[Finding], check: str) -> list[Finding]:
    return [f for f in findings if f.check == check]


def test_a_failed_outcome_without_a_tool_error_names_the_missing_call() -> None:
    v = _failed([llm(seq=0), tool("lookup", {"id": 1}, {"name": "a"}, seq=1), llm(seq=2)])
    found = check_run(v, SPEC, BASELINE)
    explained = _of(found, "outcome_failure")
    assert explained, found
    assert all(f.severity is Severity.WARNING for f in explained)
    text = " | ".join(f.explanation for f in explained)
    assert "expected call 'search' never made" in text
    assert "stopped after 1 tool calls" in text
    assert "lookup -> <end>" in text  # the baseline never ended right after the lookup


def test_the_same_run_with_a_successful_outcome_has_no_outcome_finding() -> None:
    spans = [llm(seq=0), tool("lookup", {"id": 1}, {"name": "a"}, seq=1), llm(seq=2)]
    ok = RunView.from_run(replace(run(), outcome=Outcome.SUCCESS), spans)
    assert not _of(check_run(ok, SPEC, BASELINE), "outcome_failure")


def test_a_failed_outcome_names_policy_warnings() -> None:
    t = tool("lookup", {"id": 1}, {"name": "a"}, seq=1)
    v = _failed([llm(seq=0), policy("warn", t.span_id, seq=0, message="no insurance"), t])
    (f,) = [
        f for f in _of(check_run(v, SPEC, None), "outcome_failure") if "policy" in f.explanation
    ]
    assert "no insurance" in f.explanation and "'lookup'" in f.explanation


def test_a_failed_outcome_with_a_tool_error_is_left_to_the_error() -> None:
    v = _failed([tool("search", {"q": "x"}, None, seq=0, error=True)])
    assert not _of(check_run(v, SPEC, BASELINE), "outcome_failure")


def test_a_recovered_error_is_marked_and_reported_as_recovered() -> None:
    spans = [
        tool("search", {"q": "x"}, None, seq=0, error=True),
        tool("search", {"q": "x"}, {"hits": []}, seq=1),
    ]
    v = RunView.from_run(replace(run(), outcome=Outcome.SUCCESS), spans)
    assert [c.recovered for c in v.tool_calls] == [True, False]
    assert v.unrecovered_errors == ()
    (f,) = _of(check_run(v, SPEC), "recovered_error")
    assert f.severity is Severity.INFO and f.span_id == spans[0].span_id
    # an error that nothing got past stays unrecovered
    last = RunView.from_run(run(), [replace(s, seq=1 - s.seq) for s in spans])
    assert [c.error for c in last.tool_calls] == [False, True]
    assert [c.recovered for c in last.tool_calls] == [False, False]
    assert len(last.unrecovered_errors) == 1


def _handoff_run() -> list[Span]:
    root, ho, inner = sid(), sid(), sid()

    def s(
        span_id: str,
        parent: str | None,
        kind: SpanKind,
        seq: int,
        name: str,
        attrs: dict[str, object],
    ) -> Span:
        return Span(
            TRACE,
            span_id,
            parent,
            name,
            kind,
            seq * 1000,
            seq * 1000 + 1,
            seq=seq,
            status=SpanStatus.OK,
            attributes=attrs,
        )

    refund = replace(tool("issue_refund", {"id": 1}, {"ok": True}, seq=3), parent_id=inner)
    return [
        s(root, None, SpanKind.AGENT, 0, "bot", {"agent.name": "bot"}),
        replace(tool("lookup", {"id": 1}, {"name": "a"}, seq=1), parent_id=root),
        s(ho, root, SpanKind.HANDOFF, 2, "handoff billing", {"handoff.to": "billing"}),
        s(
            inner,
            ho,
            SpanKind.AGENT,
            2,
            "billing",
            {"agent.name": "billing", "agent.digest": "sha256:billing"},
        ),
        refund,
    ]


def test_a_handed_off_agents_tool_is_not_unknown_to_the_run() -> None:
    v = RunView.from_run(run(), _handoff_run())
    refund = v.tool_calls[-1]
    assert (refund.agent, refund.agent_digest) == ("billing", "sha256:billing")
    assert v.tool_calls[0].agent is None
    assert not _of(check_run(v, SPEC), "unknown_tool")
    billing = AgentSpec(name="billing", model=SPEC.model, tools=(ToolSpec("issue_refund"),))
    assert not _of(check_run(v, SPEC, specs={"sha256:billing": billing}), "unknown_tool")
    # checked against the billing agent's own spec: a tool it does not list is unknown there
    other = AgentSpec(name="billing", model=ModelSpec("openai", "m"), tools=(ToolSpec("x"),))
    (f,) = _of(check_run(v, SPEC, specs={"sha256:billing": other}), "unknown_tool")
    assert "'billing'" in f.explanation and f.severity is Severity.CRITICAL
