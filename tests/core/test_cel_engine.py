"""The CEL engine wrapper: type checking, the cached-RE2 ``matches``, errors, lazy loading."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentdeck.core.errors import SpecError
from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.cel_engine import CelCompileError, CelEvalError
from agentdeck.core.policy.evaluate import ToolCallContext, compile_policy
from agentdeck.core.policy.spec import Effect, parse_policy_spec

PATTERNS = [
    r"(?i)^[^@\s,;]+@(example\.com|support\.example\.com)$",
    r"^ORD-[0-9]{4,}$",
    r"^a$",
    r"a.c",
    r"\pL+",
    r"[[:digit:]]",
    r"",
    r"é",
    r"(",  # invalid: both must fail
    r"x{2,1}",  # invalid
]
TEXTS = st.text(alphabet=st.sampled_from(list("aAcé@.-ORD0123456789\n ;xmple")), max_size=24)


def outcome(program: object, data: dict[str, object]) -> object:
    try:
        return cel_engine.evaluate(program, data)
    except CelEvalError:
        return "error"


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from(PATTERNS))
def test_cached_matches_agrees_with_the_engines_own_matches(text: str, pattern: str) -> None:
    data = {"args": {"s": text, "p": pattern}}
    for src in ("args.s.matches(args.p)", "matches(args.s, args.p)"):
        standard = cel_engine.standard_program(src)
        fast = cel_engine.compile_for_eval(src)
        assert outcome(fast, data) == outcome(standard, data), (src, text, pattern)


def test_end_anchor_does_not_match_before_a_trailing_newline() -> None:
    # RE2 semantics, unlike Python's re: "$" is the end of the text.
    program = cel_engine.compile_for_eval("args.s.matches('^a$')")
    assert cel_engine.evaluate(program, {"args": {"s": "a\n"}}) is False
    assert cel_engine.evaluate(program, {"args": {"s": "a"}}) is True


def test_fields_and_bound_names_called_matches_are_left_alone() -> None:
    field = cel_engine.compile_for_eval("args.matches == 1")
    assert cel_engine.evaluate(field, {"args": {"matches": 1}}) is True
    bound = cel_engine.compile_for_eval('run.calls.exists(matches, matches.tool == "x")')
    assert cel_engine.evaluate(bound, {"run": {"calls": [{"tool": "x"}]}}) is True


def test_check_reports_result_type_and_positions() -> None:
    assert cel_engine.check("args.flag").result_type == "dyn"
    assert cel_engine.check("size(args) > 1").result_type == "bool"
    assert cel_engine.check('"x"').result_type == "string"
    with pytest.raises(CelCompileError) as info:
        cel_engine.check("args.n + 1 == 'a'")
    assert info.value.kind == "type"
    assert (info.value.line, info.value.column) == (1, 12)
    with pytest.raises(CelCompileError) as info:
        cel_engine.check("nobody.knows")
    assert info.value.kind == "undeclared"
    assert info.value.name.startswith("nobody")


def policy(when: str) -> object:
    return parse_policy_spec(
        {"name": "p", "rules": [{"id": "r1", "when": when, "effect": "deny"}]}, "p.yaml"
    )


def test_invalid_literal_pattern_is_refused_at_registration_with_its_column() -> None:
    with pytest.raises(SpecError) as info:
        compile_policy(policy("args.to.matches('(oops')"), "p.yaml")  # type: ignore[arg-type]
    assert info.value.field == "rules[0].when"
    assert "invalid regular expression" in info.value.reason
    assert "at column 17" in info.value.reason


def test_type_error_is_refused_at_registration_with_its_column() -> None:
    with pytest.raises(SpecError) as info:
        compile_policy(policy("args.n + 1 == 'a'"), "p.yaml")  # type: ignore[arg-type]
    assert "type error" in info.value.reason and "at column 12" in info.value.reason


def test_invalid_pattern_from_the_call_fails_closed() -> None:
    compiled = compile_policy(policy("args.to.matches(args.pattern)"), "p.yaml")  # type: ignore[arg-type]
    d = compiled.decide(ToolCallContext("t", {"to": "a", "pattern": "("}))
    assert d.effect is Effect.DENY
    assert d.errors and "invalid regular expression" in d.errors[0].error


def test_importing_the_engine_module_loads_no_native_engine() -> None:
    code = (
        "import sys, agentdeck.core.policy.evaluate, agentdeck.core.policy.cel_engine; "
        "print('cel_expr_python' in sys.modules, 're2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_match_answers_are_remembered_for_short_texts_only_and_stay_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cel_engine, "_ANSWERS", {})
    monkeypatch.setattr(cel_engine, "_ANSWERS_MAX", 8)
    for i in range(20):
        assert cel_engine._matches(f"user{i}@example.com", r"@example\.com$") is True
    assert len(cel_engine._ANSWERS) == 8  # the oldest answers went
    assert (r"@example\.com$", "user19@example.com") in cel_engine._ANSWERS
    long_text = "x" * (cel_engine._ANSWER_TEXT_MAX + 1)
    assert cel_engine._matches(long_text, "^x+$") is True
    assert ("^x+$", long_text) not in cel_engine._ANSWERS
    # a remembered answer is the answer RE2 gives
    assert cel_engine._matches("user3@example.org", r"@example\.com$") is False
    assert cel_engine._matches("user3@example.org", r"@example\.com$") is False
