"""Policy coverage: tools no rule names, argument fields no rule reads, what is new."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agentdeck.core.policy.coverage import policy_coverage, schema_fields
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec, parse_agent_spec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "support-bot"


def obj(**props: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props}


S = {"type": "string"}
N = {"type": "number"}


def agent(*tools: ToolSpec) -> AgentSpec:
    return AgentSpec(name="bot", model=ModelSpec("openai", "gpt-4o-2024-08-06"), tools=tools)


def pol(*whens: str) -> PolicySet:
    return parse_policy_spec(
        {
            "name": "p",
            "rules": [{"id": f"r{i}", "when": w, "effect": "deny"} for i, w in enumerate(whens)],
        },
        "p.yaml",
    )


REFUND = ToolSpec("issue_refund", input_schema=obj(order_id=S, amount=N, reason=S))
EMAIL = ToolSpec(
    "send_email",
    input_schema=obj(
        to=S, subject=S, customer=obj(email=S, name=S), lines={"type": "array", "items": obj(sku=S)}
    ),
)
SEARCH = ToolSpec("search_kb", input_schema=obj(query=S))


def test_schema_fields_walks_nested_objects_and_array_items() -> None:
    assert schema_fields(EMAIL.input_schema) == (
        "to", "subject", "customer", "customer.email", "customer.name", "lines", "lines[].sku",
    )  # fmt: skip
    assert schema_fields(None) == ()


def test_tools_no_rule_names_are_uncovered() -> None:
    report = policy_coverage(
        pol('tool.name == "issue_refund" && args.amount > 1', 'tool.name in ["send_email"]'),
        agent(REFUND, EMAIL, SEARCH),
    )
    assert report.uncovered_tools == ("search_kb",)
    assert not report.fully_covered


def test_a_rule_without_tool_condition_names_no_tool() -> None:
    report = policy_coverage(pol("run.step > 10"), agent(SEARCH))
    assert report.uncovered_tools == ("search_kb",)


def test_fields_are_covered_only_by_rules_that_apply_to_their_tool() -> None:
    report = policy_coverage(
        pol(
            'tool.name == "issue_refund" && args.amount > 1',
            'tool.name == "send_email" && has(args.customer.email)',
        ),
        agent(REFUND, EMAIL),
    )
    uncovered = {(f.tool, f.path) for f in report.uncovered_fields}
    assert ("issue_refund", "amount") not in uncovered
    assert ("issue_refund", "reason") in uncovered
    assert ("send_email", "customer.email") not in uncovered
    assert ("send_email", "customer") not in uncovered  # reading a child mentions the parent
    assert ("send_email", "customer.name") in uncovered
    assert ("send_email", "to") in uncovered


def test_rule_without_tool_condition_covers_the_field_for_every_tool() -> None:
    report = policy_coverage(
        pol('has(args.to) && args["to"] == "x"', '"query" in args'), agent(EMAIL, SEARCH)
    )
    covered = {(f.tool, f.path) for f in report.fields if f.covered}
    assert {("send_email", "to"), ("search_kb", "query")} <= covered


def test_array_item_fields_are_covered_through_macros() -> None:
    report = policy_coverage(
        pol('tool.name == "send_email" && args.lines.exists(l, l.sku == "X")'), agent(EMAIL)
    )
    covered = {f.path for f in report.fields if f.covered}
    assert {"lines", "lines[].sku"} <= covered


def test_unknown_tools_are_reported() -> None:
    report = policy_coverage(pol('tool.name == "isue_refund"'), agent(REFUND))
    assert report.unknown_tools == ("isue_refund",)


def test_since_lists_new_tools_and_fields_and_whether_a_rule_mentions_them() -> None:
    old = agent(ToolSpec("issue_refund", input_schema=obj(order_id=S, amount=N)), SEARCH)
    new = agent(REFUND, SEARCH, EMAIL)
    report = policy_coverage(pol('tool.name == "send_email" && has(args.to)'), new, since=old)
    assert report.since_digest == old.digest
    assert [(t.tool, t.covered) for t in report.new_tools] == [("send_email", True)]
    new_fields = {(f.tool, f.path): f.covered for f in report.new_fields}
    assert new_fields[("issue_refund", "reason")] is False
    assert new_fields[("send_email", "to")] is True
    assert ("issue_refund", "amount") not in new_fields


def test_without_since_nothing_is_new() -> None:
    report = policy_coverage(pol("true"), agent(REFUND))
    assert report.new_tools == () and report.new_fields == () and report.since_digest is None


def test_example_policy_against_example_agent() -> None:
    def load(p: str) -> str:
        return (EXAMPLES / p).read_text()

    spec = parse_agent_spec(yaml.safe_load(load("agent.v1.yaml")), "agent.v1.yaml", load)
    ps = parse_policy_spec(yaml.safe_load(load("policy.yaml")), "policy.yaml")
    report = policy_coverage(ps, spec)
    assert "issue_refund" not in report.uncovered_tools
    assert "send_email" not in report.uncovered_tools
    assert "search_kb" in report.uncovered_tools
    covered = {(f.tool, f.path) for f in report.fields if f.covered}
    assert {
        ("issue_refund", "amount"),
        ("issue_refund", "order_id"),
        ("send_email", "to"),
    } <= covered
    assert report.unknown_tools == ()
