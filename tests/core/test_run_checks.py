from __future__ import annotations

from behaviour_factory import SPEC, TRACE, llm, policy, simple_view, tool, view

from agentdeck.core.behaviour.profile import build_profile
from agentdeck.core.behaviour.run_checks import Finding, RunCheckSettings, Severity, check_run
from agentdeck.core.trace.model import SpanStatus

BASELINE = build_profile(
    [simple_view(["lookup", "search"]) for _ in range(60)]
    + [simple_view(["search"]) for _ in range(60)]
)


def _checks(findings: list[Finding]) -> set[str]:
    return {f.check for f in findings}


def test_a_clean_run_has_no_findings() -> None:
    assert check_run(simple_view(["lookup", "search"]), SPEC, BASELINE) == []


def test_unknown_tool_is_critical_against_the_spec_and_a_warning_against_a_baseline() -> None:
    v = view([llm(seq=0), tool("delete_all", {}, {"ok": True}, seq=1, span_id="00000000000000dd")])
    (f,) = [f for f in check_run(v, SPEC) if f.check == "unknown_tool"]
    assert f == Finding(TRACE, "00000000000000dd", "unknown_tool", Severity.CRITICAL, f.explanation)
    assert "delete_all" in f.explanation
    (g,) = [f for f in check_run(v, None, BASELINE) if f.check == "unknown_tool"]
    assert g.severity is Severity.WARNING


def test_invalid_args_from_the_recorded_flag_and_from_the_pinned_schema() -> None:
    recorded = view([tool("lookup", {"id": 1}, {"name": "a"}, seq=0, valid=False)])
    assert "invalid_args" in _checks(check_run(recorded, SPEC))
    unrecorded = view([tool("lookup", {"id": "not-an-int"}, {"name": "a"}, seq=0, valid=None)])
    (f,) = [f for f in check_run(unrecorded, SPEC) if f.check == "invalid_args"]
    assert "pinned input schema" in f.explanation
    fine = view([tool("lookup", {"id": 3}, {"name": "a"}, seq=0, valid=None)])
    assert "invalid_args" not in _checks(check_run(fine, SPEC))


def test_policy_denial_names_the_governed_tool() -> None:
    t = tool("search", {"q": "x"}, None, seq=1, span_id="00000000000000ee", error=True)
    (f,) = [
        f
        for f in check_run(view([policy("deny", t.span_id, seq=0, message="pii"), t]))
        if f.check == "policy_denial"
    ]
    assert f.severity is Severity.WARNING and "'search'" in f.explanation and "pii" in f.explanation


def test_response_against_pinned_schema_then_against_inferred_schema() -> None:
    bad_pinned = view([tool("lookup", {"id": 1}, {"title": "x"}, seq=0)])
    (f,) = [f for f in check_run(bad_pinned, SPEC) if f.check == "response_schema"]
    assert f.severity is Severity.WARNING and "pinned output schema" in f.explanation
    # search has no pinned output schema: the baseline's inferred one applies (hits: array)
    drifted = view([tool("search", {"q": "x"}, {"hits": "not a list"}, seq=0)])
    (g,) = [f for f in check_run(drifted, SPEC, BASELINE) if f.check == "response_schema"]
    assert g.severity is Severity.INFO and "inferred" in g.explanation
    assert "response_schema" not in _checks(check_run(drifted, SPEC, None))


def test_loop_fires_once_after_k_identical_calls() -> None:
    spans = [tool("search", {"q": "same"}, {"hits": []}, seq=i) for i in range(5)]
    loops = [
        f
        for f in check_run(view(spans), settings=RunCheckSettings(loop_max_repeats=3))
        if f.check == "loop"
    ]
    assert len(loops) == 1 and loops[0].span_id == spans[3].span_id
    assert not [
        f
        for f in check_run(view(spans[:3]), settings=RunCheckSettings(loop_max_repeats=3))
        if f.check == "loop"
    ]


def test_step_count_outside_the_baseline_range() -> None:
    long_run = simple_view(["search"] * 6)
    assert "step_count" in _checks(check_run(long_run, None, BASELINE))
    assert "step_count" not in _checks(
        check_run(long_run, None, BASELINE, RunCheckSettings(step_slack=4))
    )
    assert "step_count" in _checks(check_run(simple_view([]), None, BASELINE))


def test_improbable_sequence_against_the_transition_model() -> None:
    (f,) = [
        f
        for f in check_run(simple_view(["search", "lookup"]), None, BASELINE)
        if f.check == "improbable_sequence"
    ]
    assert "search -> lookup" in f.explanation and "threshold" in f.explanation
    assert "improbable_sequence" not in _checks(
        check_run(simple_view(["lookup", "search"]), None, BASELINE)
    )


def test_task_incomplete_for_errors_and_missing_output() -> None:
    (f,) = check_run(simple_view(["search"], status=SpanStatus.ERROR))
    assert (f.check, f.severity, f.span_id) == ("task_incomplete", Severity.CRITICAL, None)
    (g,) = check_run(simple_view(["search"], output=None))
    assert (g.check, g.severity) == ("task_incomplete", Severity.WARNING)


def test_version_creep_model_and_tool_definitions() -> None:
    changed_schema = [
        {
            "name": "lookup",
            "input_schema": {"type": "object", "properties": {"id": {"type": "string"}}},
        },
        {
            "type": "function",
            "function": {"name": "search", "parameters": SPEC.tools[1].input_schema},
        },
        {"name": "shell", "input_schema": {}},
    ]
    v = view(
        [
            llm(seq=0, response_model="gpt-4o-2024-11-20", tools=changed_schema),
            llm(seq=1, tools=changed_schema),
        ]
    )
    findings = check_run(v, SPEC)
    by = {(f.check, f.severity) for f in findings}
    assert ("model_mismatch", Severity.CRITICAL) in by
    assert ("tool_definitions", Severity.CRITICAL) in by  # shell offered, not pinned
    assert ("tool_definitions", Severity.WARNING) in by  # lookup's schema differs
    # OpenAI-shaped search matches its pin; the same definitions are reported once per run
    assert sum(f.check == "tool_definitions" for f in findings) == 2
    assert not [f for f in findings if "'search'" in f.explanation]
    missing = view([llm(seq=0, tools=[changed_schema[1]])])
    (m,) = [f for f in check_run(missing, SPEC) if f.check == "tool_definitions"]
    assert m.severity is Severity.INFO and "lookup" in m.explanation
