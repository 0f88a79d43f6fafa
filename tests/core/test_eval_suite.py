"""Eval suites: parse errors name the file and field; matchers; ordered and unordered calls;
must-not-call; max steps; output checks; custom checks; fixtures served by argument match."""

from __future__ import annotations

import re
from typing import Any

import pytest

from agentdeck.core.errors import SpecError
from agentdeck.core.evals.match import (
    Equals,
    ObservedCall,
    Present,
    Range,
    Regex,
    Schema,
    observed_calls,
    parse_matcher,
)
from agentdeck.core.evals.suite import CheckContext, judge_case, parse_suite, serve_fixture
from agentdeck.core.trace.model import Span, SpanKind, SpanStatus


def tool_span(
    seq: int, tool: str, args: dict[str, Any], result: Any = None, error: str | None = None
) -> Span:
    return Span(
        trace_id="a" * 32, span_id=f"{seq + 1:016x}", parent_id=None, name=tool, kind=SpanKind.TOOL,
        start_ns=seq, end_ns=seq + 1, seq=seq,
        status=SpanStatus.ERROR if error else SpanStatus.OK, error=error,
        inputs={"args": args}, outputs=None if error else {"result": result},
        attributes={"tool.name": tool},
    )  # fmt: skip


def suite(expect: dict[str, Any], **case: Any) -> Any:
    return parse_suite(
        {"name": "s", "cases": [{"id": "c", "input": "hi", "expect": expect, **case}]}, "s.yaml"
    )


REFUND_RUN = [
    tool_span(0, "lookup_order", {"order_id": "ORD-1001"}, {"amount": 90}),
    tool_span(
        1,
        "verify_identity",
        {"order_id": "ORD-1001", "email": "jane@example.com"},
        {"verified": True},
    ),
    tool_span(2, "issue_refund", {"order_id": "ORD-1001", "amount": 40, "reason": "damaged"}),
]


# -- parsing errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"cases": [{"id": "a", "input": 1}]}, None),  # name missing (reported at the top)
        ({"name": "s", "cases": [{"input": 1}]}, "cases[0]"),
        (
            {"name": "s", "cases": [{"id": "a", "input": 1, "expect": {"calls": [{"args": {}}]}}]},
            "cases[0].expect.calls[0]",
        ),
        (
            {"name": "s", "cases": [{"id": "a", "input": 1, "expect": {"max_steps": -1}}]},
            "cases[0].expect.max_steps",
        ),
        (
            {"name": "s", "cases": [{"id": "a", "input": 1, "expect": {"order": "sorted"}}]},
            "cases[0].expect.order",
        ),
        (
            {"name": "s", "cases": [{"id": "a", "input": 1, "expect": {"check": "nocolon"}}]},
            "cases[0].expect.check",
        ),
        ({"name": "s", "cases": [{"id": "a", "input": 1, "surprise": 1}]}, "cases[0].surprise"),
    ],
)
def test_schema_errors_name_the_file_and_the_field(data: dict[str, Any], field: str | None) -> None:
    with pytest.raises(SpecError) as info:
        parse_suite(data, "evals/suite.yaml")
    assert info.value.source == "evals/suite.yaml"
    assert info.value.field == field
    assert info.value.exit_code == 2


def test_semantic_errors_name_the_field() -> None:
    base = {"name": "s", "cases": [{"id": "a", "input": 1}, {"id": "a", "input": 2}]}
    with pytest.raises(SpecError, match=r"suite.yaml: cases\[1\].id: duplicate case id 'a'"):
        parse_suite(base, "suite.yaml")
    bad_regex = {
        "name": "s",
        "cases": [
            {
                "id": "a",
                "input": 1,
                "expect": {"calls": [{"tool": "t", "args": {"x": {"regex": "("}}}]},
            }
        ],
    }
    with pytest.raises(
        SpecError, match=r"cases\[0\].expect.calls\[0\].args.x.regex: invalid regular expression"
    ):
        parse_suite(bad_regex, "suite.yaml")
    bad_range = {
        "name": "s",
        "cases": [
            {
                "id": "a",
                "input": 1,
                "expect": {
                    "calls": [{"tool": "t", "args": {"x": {"range": {"min": 5, "max": 1}}}}]
                },
            }
        ],
    }
    with pytest.raises(SpecError, match=r"args.x.range: min is greater than max"):
        parse_suite(bad_range, "suite.yaml")
    unknown_must = {
        "name": "s",
        "thresholds": {"must_pass": ["nope"]},
        "cases": [{"id": "a", "input": 1}],
    }
    with pytest.raises(SpecError, match=r"thresholds.must_pass\[0\]: no case with id 'nope'"):
        parse_suite(unknown_must, "suite.yaml")


def test_digest_changes_with_content_and_thresholds_default_to_all_pass() -> None:
    a = parse_suite({"name": "s", "cases": [{"id": "a", "input": 1}]}, "x")
    b = parse_suite({"name": "s", "cases": [{"id": "a", "input": 2}]}, "x")
    assert a.digest != b.digest and a.digest.startswith("sha256:")
    assert a.thresholds.min_pass_rate == 1.0 and a.thresholds.must_pass == ()


# -- matchers -------------------------------------------------------------------------------


def test_each_matcher() -> None:
    assert parse_matcher(5, "s", "f") == Equals(5)
    assert parse_matcher({"a": 1}, "s", "f") == Equals({"a": 1})  # a plain mapping is a value
    eq = parse_matcher({"equals": True}, "s", "f")
    assert eq.matches(True, True) and not eq.matches(1, True)  # booleans are not numbers
    rx = parse_matcher({"regex": "^ORD-\\d+$"}, "s", "f")
    assert isinstance(rx, Regex) and rx.matches("ORD-12", True) and not rx.matches("x ORD-1", True)
    rg = parse_matcher({"range": {"min": 0, "max": 500}}, "s", "f")
    assert isinstance(rg, Range)
    assert rg.matches(500, True) and rg.matches(0.0, True)
    assert not rg.matches(500.01, True) and not rg.matches("5", True) and not rg.matches(True, True)
    sc = parse_matcher(
        {"schema": {"type": "string", "format": "email", "pattern": "@example\\.com$"}}, "s", "f"
    )
    assert isinstance(sc, Schema) and sc.matches("a@example.com", True) and not sc.matches(3, True)
    absent = parse_matcher({"present": False}, "s", "f")
    assert (
        isinstance(absent, Present) and absent.matches(None, False) and not absent.matches(1, True)
    )
    for m in (eq, rx, rg, sc):
        assert not m.matches(None, False), (
            m
        )  # an absent argument matches nothing but present: false


def test_a_matcher_with_two_keywords_is_refused() -> None:
    with pytest.raises(SpecError, match="exactly one"):
        parse_matcher({"regex": "a", "equals": "b"}, "s.yaml", "cases[0].x")


# -- verdicts -------------------------------------------------------------------------------


def test_ordered_calls_pass_in_order_and_fail_out_of_order() -> None:
    s = suite({"order": "ordered", "calls": ["lookup_order", "verify_identity", "issue_refund"]})
    assert judge_case(s.cases[0], REFUND_RUN, "ok").passed
    swapped = suite({"order": "ordered", "calls": ["verify_identity", "lookup_order"]})
    v = judge_case(swapped.cases[0], REFUND_RUN, "ok")
    assert not v.passed and "call #2 lookup_order" in v.reasons[0]


def test_unordered_calls_need_distinct_matching_calls() -> None:
    s = suite({"calls": ["issue_refund", "lookup_order"]})
    assert judge_case(s.cases[0], REFUND_RUN, "ok").passed
    twice = suite({"calls": ["issue_refund", "issue_refund"]})
    v = judge_case(twice.cases[0], REFUND_RUN, "ok")
    assert not v.passed and "expected a call to issue_refund" in v.reasons[0]


def test_argument_matchers_explain_the_nearest_call() -> None:
    s = suite(
        {
            "calls": [
                {
                    "tool": "issue_refund",
                    "args": {"amount": {"range": {"max": 30}}, "reason": {"regex": "damag"}},
                }
            ]
        }
    )
    v = judge_case(s.cases[0], REFUND_RUN, "ok")
    assert not v.passed
    assert "amount=40 (expected in [-inf, 30])" in v.reasons[0]
    assert "reason=" not in v.reasons[0]  # the matching argument is not blamed
    ok = suite({"calls": [{"tool": "issue_refund", "args": {"amount": {"range": {"max": 40}}}}]})
    assert judge_case(ok.cases[0], REFUND_RUN, "ok").passed


def test_must_not_call_by_name_and_by_arguments() -> None:
    s = suite({"not_called": ["send_email"]})
    assert judge_case(s.cases[0], REFUND_RUN, "ok").passed
    s = suite({"not_called": ["issue_refund"]})
    v = judge_case(s.cases[0], REFUND_RUN, "ok")
    assert not v.passed and "issue_refund must not be called; called 1x" in v.reasons[0]
    big = suite(
        {"not_called": [{"tool": "issue_refund", "args": {"amount": {"range": {"min": 100.01}}}}]}
    )
    assert judge_case(big.cases[0], REFUND_RUN, "ok").passed


def test_max_steps_counts_tool_calls() -> None:
    assert judge_case(suite({"max_steps": 3}).cases[0], REFUND_RUN, "ok").passed
    v = judge_case(suite({"max_steps": 2}).cases[0], REFUND_RUN, "ok")
    assert not v.passed and v.steps == 3 and "3 steps" in v.reasons[0]
    defaulted = parse_suite(
        {"name": "s", "defaults": {"max_steps": 1}, "cases": [{"id": "c", "input": 1}]}, "x"
    )
    assert not judge_case(defaulted.cases[0], REFUND_RUN, "ok").passed


def test_output_checks() -> None:
    s = suite(
        {"output": {"contains": ["Refunded", "40"], "not_contains": "sorry", "regex": "RF-\\d+"}}
    )
    assert judge_case(s.cases[0], [], "refunded 40 EUR (RF-123)").passed
    v = judge_case(s.cases[0], [], "Sorry, no refund")
    assert not v.passed
    assert {
        "output does not contain 'Refunded'",
        "output contains 'sorry'",
        "output does not match /RF-\\d+/",
    } <= set(v.reasons)


def test_a_failed_run_fails_its_case() -> None:
    v = judge_case(suite({}).cases[0], [], None, error="RuntimeError: boom")
    assert not v.passed and v.reasons == ("the run failed: RuntimeError: boom",)


def test_custom_check_results() -> None:
    s = suite({"check": "mod:fn"})
    seen: list[CheckContext] = []

    def outcome(value: Any) -> Any:
        def fn(ctx: CheckContext) -> Any:
            seen.append(ctx)
            if isinstance(value, Exception):
                raise value
            return value

        return lambda ref: fn

    assert judge_case(s.cases[0], REFUND_RUN, "out", custom=outcome(True)).passed
    assert seen[0].output == "out" and [c.tool for c in seen[0].calls] == [
        "lookup_order",
        "verify_identity",
        "issue_refund",
    ]
    assert judge_case(s.cases[0], REFUND_RUN, "out", custom=outcome(None)).passed
    assert judge_case(s.cases[0], REFUND_RUN, "x", custom=outcome((True, "fine"))).passed
    assert judge_case(s.cases[0], REFUND_RUN, "x", custom=outcome(False)).reasons == (
        "custom check mod:fn failed",
    )
    assert judge_case(s.cases[0], REFUND_RUN, "x", custom=outcome("too big")).reasons == (
        "custom check mod:fn: too big",
    )
    assert judge_case(
        s.cases[0], REFUND_RUN, "x", custom=outcome(AssertionError("nope"))
    ).reasons == ("custom check mod:fn: nope",)
    boom = judge_case(s.cases[0], REFUND_RUN, "x", custom=outcome(KeyError("k"))).reasons[0]
    assert boom.startswith("custom check mod:fn raised KeyError")


def test_history_changes_what_the_agent_receives() -> None:
    s = suite({}, history=[{"role": "user", "content": "earlier"}])
    assert s.cases[0].agent_input() == {
        "message": "hi",
        "history": [{"role": "user", "content": "earlier"}],
    }
    assert suite({}).cases[0].agent_input() == "hi"


def test_fixtures_are_served_by_tool_and_argument_match_case_first() -> None:
    s = parse_suite(
        {
            "name": "s",
            "fixtures": [{"tool": "lookup_order", "result": {"from": "suite"}}],
            "cases": [
                {
                    "id": "c",
                    "input": 1,
                    "fixtures": [
                        {
                            "tool": "lookup_order",
                            "args": {"order_id": {"regex": "^ORD-9"}},
                            "error": "not found",
                        },
                    ],
                }
            ],
        },
        "x",
    )
    fx = s.fixtures_for(s.cases[0])
    hit = serve_fixture(fx, ObservedCall("lookup_order", {"order_id": "ORD-9001"}))
    assert hit is not None and hit.error == "not found"
    other = serve_fixture(fx, ObservedCall("lookup_order", {"order_id": "ORD-1001"}))
    assert other is not None and other.result == {"from": "suite"}
    assert serve_fixture(fx, ObservedCall("search_kb", {})) is None


def test_observed_calls_read_tool_spans_in_seq_order() -> None:
    spans = [
        REFUND_RUN[2],
        REFUND_RUN[0],
        tool_span(3, "send_email", {"to": "x"}, error="ToolFailed: bad"),
    ]
    calls = observed_calls(spans)
    assert [c.tool for c in calls] == ["lookup_order", "issue_refund", "send_email"]
    assert calls[-1].error == "ToolFailed: bad" and not calls[-1].ok
    assert re.match(r"^[0-9a-f]{16}$", calls[0].span_id)
