"""Pathological CEL and regular expressions (issue 16): huge literals and too many rules are
refused at registration in one line naming the rule; ``matches`` runs on RE2, whose time is
linear in the text, so a catastrophic-backtracking pattern decides at once."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from agentdeck.core.errors import SpecError
from agentdeck.core.policy.compile import MAX_LITERAL_ITEMS
from agentdeck.core.policy.evaluate import ToolCallContext, compile_policy
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec


def _policy(*whens: str) -> PolicySet:
    rules = [{"id": f"r{i}", "when": w, "effect": "deny"} for i, w in enumerate(whens)]
    return parse_policy_spec({"name": "p", "rules": rules}, "p.yaml")


def _refused(when: str) -> str:
    with pytest.raises(SpecError) as info:
        compile_policy(_policy(when), "p.yaml")
    message = str(info.value)
    assert message.startswith("p.yaml: rules[0].when: rule 'r0'") and "\n" not in message
    return message


@pytest.mark.parametrize(
    "when",
    [
        "1 in [" + ",".join(["1"] * 1990) + "]",
        "size({" + ",".join(f"'k{i}': {i}" for i in range(300)) + "}) > 0",
        'args.to in ["a", ' + ", ".join(['"b"'] * MAX_LITERAL_ITEMS) + "]",
    ],
)
def test_a_huge_literal_is_refused_naming_its_column(when: str) -> None:
    message = _refused(when)
    assert f"more than {MAX_LITERAL_ITEMS} elements" in message and "at column" in message


def test_a_literal_at_the_limit_compiles() -> None:
    items = ", ".join(f'"u{i}"' for i in range(MAX_LITERAL_ITEMS))
    compiled = compile_policy(_policy(f"args.to in [{items}]"), "p.yaml")
    assert compiled.decide(ToolCallContext.from_dict({"tool": "t", "args": {"to": "u7"}})).effect
    ok = compiled.decide(ToolCallContext.from_dict({"tool": "t", "args": {"to": "x"}}))
    assert ok.effect.value == "allow"


def test_a_policy_with_too_many_rules_is_refused() -> None:
    with pytest.raises(SpecError) as info:
        _policy(*(["true"] * 1001))
    assert "p.yaml: rules" in str(info.value)


def _decide_within(compiled: Any, args: dict[str, Any], seconds: float = 60.0) -> Any:
    """The decision, from a worker thread given a generous deadline (backtracking would take
    longer than the age of the universe on these inputs)."""
    out: list[Any] = []
    ctx = ToolCallContext.from_dict({"tool": "t", "args": args})
    worker = threading.Thread(target=lambda: out.append(compiled.decide(ctx)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert out, "a regular expression did not finish: matches is no longer linear-time"
    return out[0]


@pytest.mark.parametrize(
    ("pattern", "on_aaa"),
    [
        ("(a+)+$", "deny"),
        ("(a|aa)+$", "deny"),
        ("(a*)*b$", "allow"),
        ("^(([a-z])+.)+[A-Z]([a-z])+$", "allow"),
    ],
)
def test_matches_with_a_catastrophic_backtracking_pattern_decides_at_once(
    pattern: str, on_aaa: str
) -> None:
    text = "a" * 50_000 + "!"
    assert re.compile(pattern)  # Python's backtracking engine would hang on these
    compiled = compile_policy(_policy(f"args.s.matches({_cel_string(pattern)})"), "p.yaml")
    assert _decide_within(compiled, {"s": text}).effect.value == "allow"
    assert _decide_within(compiled, {"s": "aaa"}).effect.value == on_aaa


def test_a_pattern_from_the_call_itself_is_bounded_too() -> None:
    compiled = compile_policy(_policy("args.s.matches(args.p)"), "p.yaml")
    decision = _decide_within(compiled, {"s": "a" * 50_000 + "!", "p": "(a+)+$"})
    assert decision.effect.value == "allow"
    # a pattern whose program is too large for RE2: an evaluation error, so the rule fails
    # closed (deny) instead of compiling for ever
    huge = _decide_within(compiled, {"s": "a", "p": "((a{100}){100}){100}"})
    assert huge.effect.value == "deny"


def test_a_pattern_too_large_for_re2_is_refused_at_registration() -> None:
    message = _refused('args.s.matches("((a{100}){100}){100}")')
    assert "invalid regular expression" in message


def _cel_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
