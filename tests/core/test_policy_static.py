"""Text-level facts and rewrites of CEL rules: tool.name as a literal, leading-dot roots."""

from __future__ import annotations

import pytest

from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.context import ROOT_VARIABLES
from agentdeck.core.policy.static import leading_dot_roots, with_tool_name


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ('tool.name == "a" && x', '"refund" == "a" && x'),
        ('tool.name in ["a"] && tool.version == "1"', '"refund" in ["a"] && tool.version == "1"'),
        ("size(tool.name) > 3", 'size("refund") > 3'),
        ("tool.name.startsWith('re')", "\"refund\".startsWith('re')"),
    ],
)
def test_free_tool_name_becomes_the_literal(src: str, expected: str) -> None:
    assert with_tool_name(src, "refund") == expected


@pytest.mark.parametrize(
    "src",
    [
        "has(tool.name)",  # has() needs a field selection
        'run.calls.exists(tool, tool.name == "x")',  # `tool` is bound by the macro
        'c.tool.name == "x"',  # a field of something else
        '.tool.name == "x"',  # leading-dot form: left to the engine
        'args.tool.name == "x"',
    ],
)
def test_tool_name_is_left_alone_where_it_is_not_the_calls_tool(src: str) -> None:
    assert with_tool_name(src, "refund") == src


def test_names_that_are_not_plain_words_are_not_substituted() -> None:
    assert with_tool_name('tool.name == "a"', 'we"ird') == 'tool.name == "a"'


def test_substituted_rule_evaluates_like_the_original_for_that_tool() -> None:
    src = 'tool.name == "refund" && (tool.name.size() == 6 || args.x > 1)'
    data = {"tool": {"name": "refund"}, "args": {"x": 0}}
    original = cel_engine.evaluate(cel_engine.compile_for_eval(src), data)
    rewritten = cel_engine.evaluate(
        cel_engine.compile_for_eval(with_tool_name(src, "refund")), {"args": {"x": 0}}
    )
    assert original is rewritten is True


def test_leading_dot_roots_are_found_and_selections_are_not() -> None:
    assert leading_dot_roots(".args.x > 1 && tool.name == 'a'", ROOT_VARIABLES) == {"args"}
    assert leading_dot_roots("(.run).step > 1", ROOT_VARIABLES) == {"run"}
    assert leading_dot_roots("c.args.x > 1 && m[0].tool == 'a'", ROOT_VARIABLES) == set()
