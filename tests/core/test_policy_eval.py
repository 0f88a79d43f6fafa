"""Policy compilation, decisions, fail-closed semantics, policy tests and the rule index."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.errors import SpecError
from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.cel_engine import CelEvalError
from agentdeck.core.policy.compile import MAX_EXPRESSION_CHARS
from agentdeck.core.policy.evaluate import (
    PolicyCache,
    ToolCallContext,
    check_policy,
    compile_policy,
    run_policy_tests,
)
from agentdeck.core.policy.spec import Effect, PolicySet, Rule, parse_policy_spec
from agentdeck.core.policy.static import analyze

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-bot" / "policy.yaml"


def policy(
    *rules: tuple[str, str, str], default: str = "allow", tests: list[Any] | None = None
) -> PolicySet:
    doc: dict[str, Any] = {
        "name": "p",
        "default_effect": default,
        "rules": [{"id": i, "when": w, "effect": e, "message": f"msg {i}"} for i, w, e in rules],
    }
    if tests:
        doc["tests"] = tests
    return parse_policy_spec(doc, "p.yaml")


def call(tool: str, **kw: Any) -> ToolCallContext:
    return ToolCallContext.from_dict({"tool": tool, **kw})


def refused(when: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        compile_policy(policy(("r1", when, "deny")), "p.yaml")
    assert info.value.field == "rules[0].when"
    assert "rule 'r1'" in info.value.reason
    return info.value


# -- bad input ----------------------------------------------------------------------------


def test_syntax_error_names_rule_and_column() -> None:
    err = refused('tool.name == "x" &&')
    assert "syntax error" in err.reason
    assert "at column 20" in err.reason


def test_syntax_error_in_multiline_rule_names_line_and_column() -> None:
    err = refused('tool.name == "x"\n  && args.z ??? 3')
    assert "line 2" in err.reason


def test_unknown_variable_is_refused_with_its_column() -> None:
    err = refused('tool.name == "x" && user.admin')
    assert "unknown variable 'user'" in err.reason
    assert "at column 21" in err.reason


def test_macro_bound_names_are_not_unknown_variables() -> None:
    compile_policy(policy(("r", 'run.calls.exists(c, c.tool == "x")', "deny")), "p.yaml")


def test_unknown_function_is_refused() -> None:
    err = refused('args.to.shout() == "a"')
    assert "unknown function 'shout'" in err.reason
    assert "at column 9" in err.reason


@pytest.mark.parametrize(
    "when", ["size(run.calls)", '"deny"', "args.amount + 1", "run.step", "tool.name"]
)
def test_non_boolean_when_is_refused(when: str) -> None:
    assert "must be a boolean" in refused(when).reason


@pytest.mark.parametrize(
    "when", ["args.flag", 'tool.name == "x" && args.flag', "has(args.a) ? args.a > 1 : false"]
)
def test_dynamic_when_that_can_be_boolean_is_accepted(when: str) -> None:
    compile_policy(policy(("r", when, "deny")), "p.yaml")


def test_overlong_expression_is_refused() -> None:
    assert "longer than" in refused("true && " * (MAX_EXPRESSION_CHARS // 8 + 1) + "true").reason


@pytest.mark.parametrize(
    "when", ["(" * 40 + "true" + ")" * 40, "a." * 40 + "b", "[" * 40 + "]" * 40]
)
def test_nesting_beyond_the_parsers_limit_is_refused_in_plain_words(when: str) -> None:
    reason = refused(when).reason
    assert reason.startswith("rule 'r1': syntax error: ") and "recursion" in reason
    assert "CANCELLED" not in reason and "<input>" not in reason


def test_duplicate_rule_id_is_refused_even_when_built_in_code() -> None:
    ps = PolicySet("p", (Rule("a", "true", Effect.DENY), Rule("a", "false", Effect.DENY)))
    with pytest.raises(SpecError) as info:
        compile_policy(ps, "p.yaml")
    assert info.value.field == "rules[1].id"
    assert "duplicate" in info.value.reason


def test_check_policy_reports_every_bad_rule() -> None:
    ps = policy(("ok", "true", "deny"), ("bad1", "nope > 1", "deny"), ("bad2", "1 +", "deny"))
    problems = check_policy(ps, "p.yaml")
    assert [p.field for p in problems] == ["rules[1].when", "rules[2].when"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_compile_never_crashes_on_arbitrary_text(when: str) -> None:
    ps = PolicySet("p", (Rule("r", when, Effect.DENY),))
    with contextlib.suppress(SpecError):
        compile_policy(ps, "p.yaml")


CEL_PIECES = st.sampled_from(
    ["tool", "args", "run", "now", "env", "agent", ".", "name", "amount", "calls", "(", ")", "[", "]",
     "==", "&&", "||", "!", "?", ":", "'x'", '"y"', "r'z'", "1", "2.5", "true", "null", "in", ",",
     "exists", "c", "size", "has", "+", "<", "{", "}", " ", "\n", "//", "matches"]
)  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CEL_PIECES, max_size=25).map("".join))
def test_compile_never_crashes_on_cel_like_text(when: str) -> None:
    ps = PolicySet("p", (Rule("r", when or "x", Effect.DENY),))
    try:
        compiled = compile_policy(ps, "p.yaml")
    except SpecError:
        return
    compiled.decide(call("x", args={"amount": 1}))  # and deciding never raises


STANDARD_AND_EXTENSION_FUNCTIONS = [
    "size('ab') == 2", "'ab'.contains('a')", "'ab'.startsWith('a')", "'ab'.endsWith('b')",
    "'ab'.matches('^a')", "matches('ab', 'b$')", "string(1) == '1'", "bytes('a') == b'a'",
    "int('1') == 1", "uint(1) == 1u", "double(1) == 1.0", "type(1) == int", "dyn(1) == 1",
    "duration('1s') > duration('0s')", "now == timestamp('2024-01-01T00:00:00Z')",
    "now.getFullYear() == 2024", "now.getMonth() == 0", "now.getDayOfYear() == 0",
    "now.getDayOfMonth() == 0", "now.getDate() == 1", "now.getDayOfWeek() == 1",
    "now.getHours() == 0", "now.getMinutes() == 0", "now.getSeconds() == 0",
    "now.getMilliseconds() == 0", "optional.of(1).hasValue()", "!optional.none().hasValue()",
    "optional.none().or(optional.of(2)).value() == 2", "optional.none().orValue(3) == 3",
    "args.?missing.orValue(7) == 7", "'AbC'.lowerAscii() == 'abc'", "'abc'.upperAscii() == 'ABC'",
    "' a '.trim() == 'a'", "'a,b'.split(',') == ['a', 'b']", "['a', 'b'].join('-') == 'a-b'",
    "'abc'.indexOf('c') == 2", "'abc'.substring(1) == 'bc'", "'aXa'.replace('X', 'a') == 'aaa'",
]  # fmt: skip


@pytest.mark.parametrize("expr", STANDARD_AND_EXTENSION_FUNCTIONS)
def test_standard_and_string_extension_functions_evaluate_in_rules(expr: str) -> None:
    compiled = compile_policy(policy(("r", expr, "deny")), "p.yaml")
    d = compiled.decide(call("x", args={"a": 1}, now="2024-01-01T00:00:00Z"))
    assert not d.errors, d.explanation
    assert d.effect is Effect.DENY, expr


# -- decisions ----------------------------------------------------------------------------

SEVERITY = policy(
    ("w", 'tool.name == "t" && args.n > 1', "warn"),
    ("a", 'tool.name == "t" && args.n > 2', "require_approval"),
    ("d", 'tool.name == "t" && args.n > 3', "deny"),
    ("ok", 'tool.name == "t" && args.n > 4', "allow"),
)


@pytest.mark.parametrize(
    ("n", "effect"), [(0, "allow"), (2, "warn"), (3, "require_approval"), (4, "deny"), (9, "deny")]
)
def test_most_severe_matched_effect_wins(n: int, effect: str) -> None:
    d = compile_policy(SEVERITY, "p.yaml").decide(call("t", args={"n": n}))
    assert d.effect.value == effect


def test_default_effect_applies_when_no_rule_matches() -> None:
    compiled = compile_policy(policy(("r", 'tool.name == "a"', "allow"), default="deny"), "p.yaml")
    assert compiled.decide(call("a")).effect is Effect.ALLOW
    other = compiled.decide(call("b"))
    assert other.effect is Effect.DENY and other.default_applied


def test_matched_rules_are_listed_in_file_order_with_messages() -> None:
    d = compile_policy(SEVERITY, "p.yaml").decide(call("t", args={"n": 4}))
    assert [m.rule_id for m in d.matched] == ["w", "a", "d"]
    assert d.message == "msg d"
    assert d.decisive_rules == ("d",)


def test_evaluation_error_fails_closed_and_is_recorded() -> None:
    compiled = compile_policy(
        policy(("r", 'tool.name == "t" && args.amount > 10', "warn")), "p.yaml"
    )
    d = compiled.decide(call("t", args={}))
    assert d.effect is Effect.DENY
    assert [e.rule_id for e in d.errors] == ["r"]
    assert "amount" in d.errors[0].error
    assert "fail-closed" in d.explanation


def test_non_boolean_result_at_run_time_fails_closed() -> None:
    compiled = compile_policy(policy(("r", "args.flag", "allow")), "p.yaml")
    assert compiled.decide(call("t", args={"flag": True})).effect is Effect.ALLOW
    d = compiled.decide(call("t", args={"flag": "yes"}))
    assert d.effect is Effect.DENY and "not bool" in d.errors[0].error


def test_error_in_one_rule_keeps_the_other_rules_results() -> None:
    compiled = compile_policy(
        policy(("bad", "args.missing > 1", "deny"), ("good", "args.n == 1", "warn")), "p.yaml"
    )
    d = compiled.decide(call("t", args={"n": 1}))
    assert [m.rule_id for m in d.matched] == ["good"]
    assert [e.rule_id for e in d.errors] == ["bad"]


def test_context_that_cel_cannot_hold_fails_closed() -> None:
    compiled = compile_policy(policy(("r", "has(args.x)", "warn")), "p.yaml")
    d = compiled.decide(ToolCallContext(tool="t", args={"x": object()}))
    assert d.effect is Effect.DENY and d.errors


def test_rule_using_now_sees_the_given_time() -> None:
    compiled = compile_policy(
        policy(("night", "now.getHours() >= 22", "require_approval")), "p.yaml"
    )
    late = compiled.decide(call("t", now="2025-01-01T23:00:00Z"))
    early = compiled.decide(call("t", now="2025-01-01T09:00:00Z"))
    assert (late.effect, early.effect) == (Effect.REQUIRE_APPROVAL, Effect.ALLOW)


def test_counts_read_as_zero_for_tools_the_policy_names() -> None:
    compiled = compile_policy(
        policy(("budget", 'tool.name == "send_email" && run.counts["send_email"] >= 2', "deny")),
        "p.yaml",
    )
    assert compiled.decide(call("send_email")).effect is Effect.ALLOW
    assert (
        compiled.decide(call("send_email", run={"calls": ["send_email", "send_email"]})).effect
        is Effect.DENY
    )


def test_rules_are_indexed_by_the_tools_they_name() -> None:
    compiled = compile_policy(
        policy(
            ("a", 'tool.name == "a" && args.x > 1', "deny"),
            ("ab", '(tool.name == "a" || tool.name == "b") && true', "warn"),
            ("bc", 'tool.name in ["b", "c"]', "warn"),
            ("any", "run.step > 100", "deny"),
            ("not-a", 'tool.name != "a"', "warn"),
        ),
        "p.yaml",
    )
    ids = lambda t: [r.rule.id for r in compiled.rules_for(t)]  # noqa: E731
    assert ids("a") == ["a", "ab", "any", "not-a"]
    assert ids("b") == ["ab", "bc", "any", "not-a"]
    assert ids("zzz") == ["any", "not-a"]
    assert compiled.decide(call("zzz")).evaluated == ("any", "not-a")


@pytest.mark.parametrize(
    ("when", "scope"),
    [
        ('tool.name == "x"', {"x"}),
        ('"x" == tool.name && args.a', {"x"}),
        ('args.a > 1 && (tool.name == "x" && true)', {"x"}),
        ('tool.name in ["x", "y"] && tool.name == "y"', {"y"}),
        ('tool.name == "x" || args.a', None),
        ('tool.name == "x" ? true : false', None),
        ('!(tool.name == "x")', None),
        ('tool.name == "x" + "y"', None),
        ('tool.name == "x\\n"', None),
    ],
)
def test_tool_scope_is_found_only_where_it_is_sound(when: str, scope: set[str] | None) -> None:
    found = analyze(when).tool_scope
    assert (set(found) if found is not None else None) == scope


# The index and the context projection must never change a decision: compare with every
# rule evaluated on the full, unprojected context.
PROPERTY_RULES = [
    (
        "amount",
        'tool.name == "refund" && has(args.amount) && args.amount > 100',
        "require_approval",
    ),
    (
        "verify",
        'tool.name == "refund" && !run.calls.exists(c, c.tool == "verify" && c.outcome == "ok")',
        "deny",
    ),
    (
        "same-order",
        'tool.name in ["refund"] && run.calls.exists(c, has(c.args.id) && has(args.id) && c.args.id == args.id)',
        "warn",
    ),
    ("emails", 'tool.name == "email" && run.counts["email"] >= 2', "deny"),
    ("to", 'tool.name == "email" && "to" in args && args["to"].endsWith("@x.com")', "allow"),
    ("keys", 'args.exists(k, k == "secret")', "deny"),
    (
        "filtered",
        'size(run.calls.filter(c, c.tool == "verify")) > 1 && run.calls.filter(c, c.tool == "verify").all(c, c.outcome == "ok")',
        "warn",
    ),
    ("nested", "has(args.meta) && has(args.meta.tags) && size(args.meta.tags) > 2", "warn"),
    ("prod", 'env == "production" && agent.version > 2 && run.step > 3', "require_approval"),
    ("missing", 'tool.name == "email" && args.subject == ""', "warn"),
    ("any-tool-name", 'tool.name.startsWith("ver") || size(tool.name) == 5', "warn"),
]
TOOLS = st.sampled_from(["refund", "email", "verify", "search"])
ARG_VALUE = st.one_of(st.integers(-5, 500), st.sampled_from(["a@x.com", "b@y.com", "", "o1", "o2"]))
ARGS = st.dictionaries(
    st.sampled_from(["amount", "id", "to", "subject", "secret", "meta"]),
    st.one_of(ARG_VALUE, st.fixed_dictionaries({"tags": st.lists(st.integers(), max_size=4)})),
    max_size=4,
)
CALLS = st.lists(
    st.fixed_dictionaries(
        {"tool": TOOLS, "args": ARGS, "outcome": st.sampled_from(["ok", "error"])}
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(TOOLS, ARGS, CALLS, st.sampled_from(["production", "dev"]), st.integers(1, 4))
def test_index_and_projection_never_change_a_decision(
    tool: str, args: dict[str, Any], calls: list[Any], env: str, version: int
) -> None:
    compiled = compile_policy(policy(*PROPERTY_RULES), "p.yaml")
    ctx = ToolCallContext.from_dict(
        {
            "tool": tool,
            "args": args,
            "env": env,
            "agent": {"version": version},
            "run": {"calls": calls},
        }
    )
    decision = compiled.decide(ctx)
    full = ctx.variables(compiled.zero_counts)
    matched, errored = [], []
    for r in compiled.rules:
        try:
            value = cel_engine.evaluate(r.program, full)
        except CelEvalError:
            errored.append(r.rule.id)
            continue
        if value is True:
            matched.append(r.rule.id)
        elif value is not False:
            errored.append(r.rule.id)
    assert [m.rule_id for m in decision.matched] == matched
    assert [e.rule_id for e in decision.errors] == errored


# -- contexts, tests, cache ----------------------------------------------------------------


def test_call_from_dict_names_the_bad_field() -> None:
    with pytest.raises(SpecError) as info:
        ToolCallContext.from_dict({"tool": "t", "run": {"calls": [{"args": {}}]}}, "case.json")
    assert info.value.field == "run.calls[0]"
    with pytest.raises(SpecError) as info:
        ToolCallContext.from_dict({"tool": "t", "user": 1}, "case.json")
    assert info.value.field == "user"


def test_call_from_dict_derives_counts_and_step_from_calls() -> None:
    ctx = ToolCallContext.from_dict(
        {"tool": {"name": "t", "version": "2"}, "run": {"calls": ["a", "a", {"tool": "b"}]}}
    )
    assert dict(ctx.counts) == {"a": 2, "b": 1}
    assert ctx.step == 3 and ctx.tool_version == "2"


def test_failing_policy_test_says_what_differed() -> None:
    ps = policy(
        ("big", "args.n > 10", "deny"),
        tests=[
            {
                "name": "passes",
                "call": {"tool": "t", "args": {"n": 11}},
                "expect": "deny",
                "expect_rules": ["big"],
            },
            {"name": "fails", "call": {"tool": "t", "args": {"n": 1}}, "expect": "deny"},
            {
                "name": "wrong rules",
                "call": {"tool": "t", "args": {"n": 11}},
                "expect": "deny",
                "expect_rules": ["other"],
            },
        ],
    )
    results = run_policy_tests(ps, "p.yaml")
    assert [r.passed for r in results] == [True, False, False]
    assert "expected deny, got allow" in results[1].reason
    assert "expected rules ['other']" in results[2].reason


def test_malformed_test_call_is_a_spec_error_naming_the_case() -> None:
    ps = policy(("r", "true", "deny"), tests=[{"call": {"args": {}}, "expect": "deny"}])
    with pytest.raises(SpecError) as info:
        run_policy_tests(ps, "p.yaml")
    assert info.value.field == "tests[0].call.tool"


def test_example_support_policy_compiles_and_its_tests_pass() -> None:
    ps = parse_policy_spec(yaml.safe_load(EXAMPLE.read_text()), str(EXAMPLE))
    assert ps.name == "support-refunds"
    results = run_policy_tests(ps, str(EXAMPLE))
    assert len(results) >= 10
    assert [r.name for r in results if not r.passed] == []


def test_example_policy_tests_would_catch_a_weakened_rule() -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    for rule in doc["rules"]:
        if rule["id"] == "refund-hard-limit":
            rule["when"] = rule["when"].replace("> 500", "> 5000")
    results = run_policy_tests(parse_policy_spec(doc, "weakened.yaml"), "weakened.yaml")
    assert any(not r.passed for r in results)


def test_cache_compiles_each_digest_once_and_evicts_oldest() -> None:
    cache = PolicyCache(maxsize=2)
    p1, p2, p3 = (policy((f"r{i}", "true", "warn")) for i in range(3))
    first = cache.get(p1, "p1")
    assert cache.get(p1, "p1") is first
    cache.get(p2, "p2")
    cache.get(p3, "p3")
    assert len(cache) == 2
    assert cache.get(p1, "p1") is not first


def test_explanation_names_policy_rules_and_effect() -> None:
    d = compile_policy(SEVERITY, "p.yaml").decide(call("t", args={"n": 3}))
    text = d.explanation
    assert text.startswith("require_approval: tool 't' under policy p")
    assert "rule w matched -> warn" in text and "rule a matched -> require_approval" in text
