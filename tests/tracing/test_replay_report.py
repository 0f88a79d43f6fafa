"""The replay report's pieces: action keys, first difference, edit distance, alignment, and how
recorded errors are served."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import Span, SpanKind, SpanStatus
from agentdeck.tracing.replay.recording import RecordedStep, StepKind, steps_of
from agentdeck.tracing.replay.report import (
    Action,
    CandidateCall,
    RowStatus,
    Served,
    align,
    edit_distance,
    first_difference,
    similarity,
)
from agentdeck.tracing.replay.serve import ReplayedToolError, serve_tool

keys = st.lists(st.sampled_from("abcd"), max_size=8)


def test_action_keys_ignore_key_order_and_integral_floats() -> None:
    assert Action("t", {"a": 1, "b": [1, 2]}).key == Action("t", {"b": [1, 2], "a": 1.0}).key
    assert Action("t", {"a": 1}).key != Action("t", {"a": 2}).key
    assert Action("t", {"a": 1}).key != Action("u", {"a": 1}).key


def test_first_difference_names_the_path_and_both_values() -> None:
    exp = {"messages": [{"role": "system", "content": "A"}, {"role": "user", "content": "q"}]}
    act = {"messages": [{"role": "system", "content": "A"}, {"role": "user", "content": "Q"}]}
    assert first_difference(exp, act) == ("messages[1].content", "q", "Q")
    assert first_difference([1, 2], [1, 2, 3], "xs") == ("xs[2]", None, 3)
    assert first_difference({"a": 1}, {"a": 1, "b": 2}) == ("b", None, 2)
    assert first_difference({"a": 1}, {"a": 1.0}) is None


@given(keys, keys)
def test_edit_distance_is_a_symmetric_bounded_metric(a: list[str], b: list[str]) -> None:
    d = edit_distance(a, b)
    assert d == edit_distance(b, a)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert (d == 0) == (a == b)
    assert 0.0 <= similarity(a, b) <= 1.0


def test_edit_distance_counts_insertions_deletions_and_substitutions() -> None:
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("abc", "abxc") == 1
    assert edit_distance("abc", "axc") == 1
    assert edit_distance("kitten", "sitting") == 3
    assert similarity([], []) == 1.0 and similarity(["a"], []) == 0.0


@given(keys, keys)
def test_alignment_keeps_every_action_once_and_in_order(a: list[str], b: list[str]) -> None:
    recorded = [Action(x, {}) for x in a]
    candidate = [CandidateCall(Action(x, {}), Served.RECORDING) for x in b]
    rows = align(recorded, candidate)
    assert [r.recorded for r in rows if r.recorded] == recorded
    assert [r.candidate for r in rows if r.candidate] == candidate
    for r in rows:
        if r.status is RowStatus.MATCH:
            assert r.recorded is not None and r.candidate is not None
            assert r.recorded.key == r.candidate.action.key
    assert (all(r.status is RowStatus.MATCH for r in rows)) == (a == b)


def _tool_span(status: SpanStatus, **attrs: object) -> RecordedStep:
    span = Span("a" * 32, "b" * 16, None, "lookup", SpanKind.TOOL, 0, 1, seq=1, status=status,
                error=attrs.pop("error", None), inputs={"args": {"id": 1}},  # type: ignore[arg-type]
                outputs={"result": {"ok": True}}, attributes={"tool.name": "lookup", **attrs})  # fmt: skip
    (step,) = steps_of([span])
    return step


def test_a_recorded_result_is_served_as_is() -> None:
    step = _tool_span(SpanStatus.OK)
    assert step.kind is StepKind.TOOL and serve_tool(step).result == {"ok": True}


def test_a_recorded_builtin_error_is_raised_as_that_type_with_its_message() -> None:
    step = _tool_span(SpanStatus.ERROR, error="KeyError: 'no order'", **{"error.type": "KeyError"})
    with pytest.raises(KeyError) as info:
        serve_tool(step)
    err = info.value
    assert isinstance(err, ReplayedToolError)
    assert str(err) == "'no order'" and err.recorded == "KeyError: 'no order'"


def test_a_recorded_custom_error_is_a_replayed_tool_error() -> None:
    step = _tool_span(SpanStatus.ERROR, error="Boom: down", **{"error.type": "Outer.Boom"})
    with pytest.raises(ReplayedToolError, match=r"^down$") as info:
        serve_tool(step)
    assert info.value.error_type == "Outer.Boom"


def test_a_recorded_denial_is_raised_as_policy_denied_again() -> None:
    original = PolicyDenied("lookup", ["no-bulk"], "too many lookups")
    step = _tool_span(SpanStatus.ERROR, error=f"PolicyDenied: {original}",
                      **{"error.type": "PolicyDenied", "tool.denied": True,
                         "policy.rules": ["no-bulk"]})  # fmt: skip
    with pytest.raises(PolicyDenied) as info:
        serve_tool(step)
    assert (info.value.rules, info.value.message, str(info.value)) == (
        ["no-bulk"],
        "too many lookups",
        str(original),
    )
