"""``agentdeck policy check / test / eval / coverage / approvals / approve / reject``."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from agentdeck.core.spec.artifacts import PolicyVersion
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLES, Cli, assert_user_error

POLICY = EXAMPLES / "policy.yaml"


def _register_example(cli: Cli) -> None:
    assert cli("policy", "register", POLICY).code == 0
    assert cli("register", EXAMPLE_V1).code == 0


def test_check_compiles_every_rule(cli: Cli) -> None:
    r = cli("policy", "check", POLICY)
    assert r.code == 0 and "8 rules compiled, 16 test cases" in r.out
    data = json.loads(cli("policy", "check", POLICY, "--json").out)
    assert data["ok"] is True and data["problems"] == []


def test_check_names_the_rule_and_column_of_a_bad_expression(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: p\nrules:\n  - id: ok-rule\n    when: tool.name == 'x'\n    effect: deny\n"
        "  - id: broken-rule\n    when: 'tool.name == \"x\" &&'\n    effect: deny\n"
    )
    assert_user_error(cli("policy", "check", bad), "rules[1].when", "broken-rule", "column")


def test_check_refuses_a_missing_or_malformed_file_in_one_line(cli: Cli, tmp_path: Path) -> None:
    assert_user_error(cli("policy", "check", tmp_path / "nope.yaml"), "no such file")
    (tmp_path / "x.yaml").write_text("name: [unclosed\n")
    assert_user_error(cli("policy", "check", tmp_path / "x.yaml"), "malformed YAML")


def test_test_runs_the_cases_of_a_file_and_fails_with_exit_1(cli: Cli, tmp_path: Path) -> None:
    r = cli("policy", "test", POLICY, "--json")
    assert r.code == 0
    data = json.loads(r.out)
    assert data["total"] == 16 and data["failed"] == 0 and data["stored"] is False
    doc = yaml.safe_load(POLICY.read_text())
    doc["tests"][0]["expect"] = "deny"
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(yaml.safe_dump(doc))
    r = cli("policy", "test", wrong)
    assert r.code == 1 and "1 failed" in r.out


def test_test_for_an_agent_stores_the_result(cli: Cli, store: SqlStore) -> None:
    _register_example(cli)
    r = cli("policy", "test", "support-refunds@1", "--agent", "support-bot@1")
    assert r.code == 0 and "stored" in r.out
    reg = Registry(store)
    pv: PolicyVersion = reg.get_policy("support-refunds@1")
    rec = store.get_policy_test_result(pv.digest, reg.get("support-bot@1").digest)
    assert rec is not None and rec.total == 16 and rec.failed == 0 and rec.ran_by == "tester"


def test_eval_explains_one_decision(cli: Cli) -> None:
    call = {"tool": "issue_refund", "args": {"order_id": "ORD-1", "amount": 900},
            "run": {"calls": [{"tool": "verify_identity", "args": {"order_id": "ORD-1"}},
                              {"tool": "lookup_order", "args": {"order_id": "ORD-1"}}]}}  # fmt: skip
    r = cli("policy", "eval", POLICY, "--call", json.dumps(call), "--json")
    assert r.code == 0
    d = json.loads(r.out)
    assert d["effect"] == "deny" and [m["rule"] for m in d["matched"]] == ["refund-hard-limit"]
    r = cli("policy", "eval", POLICY, "--call", json.dumps(call))
    assert r.code == 0 and "refund-hard-limit matched -> deny" in r.out


def test_eval_refuses_bad_json_and_bad_calls_in_one_line(cli: Cli) -> None:
    assert_user_error(cli("policy", "eval", POLICY, "--call", '{"tool":'), "--call", "not JSON")
    assert_user_error(cli("policy", "eval", POLICY, "--call", '{"tol": 1}'), "--call", "tol")
    assert_user_error(cli("policy", "eval", "nope@1", "--call", '{"tool": "x"}'), "nope@1")


def test_coverage_lists_what_no_rule_mentions(cli: Cli) -> None:
    _register_example(cli)
    data = json.loads(cli("policy", "coverage", "support-bot@1", "--json").out)
    assert data["policy"] == "support-refunds@1"
    assert set(data["uncovered_tools"]) == {"lookup_order", "verify_identity", "search_kb"}
    assert {"tool": "issue_refund", "field": "reason"} in data["uncovered_fields"]


def test_coverage_since_shows_a_new_tool_as_uncovered(cli: Cli, tmp_path: Path) -> None:
    _register_example(cli)
    doc = yaml.safe_load(EXAMPLE_V1.read_text())
    doc["system_prompt"] = "You help (v2)."
    doc["tools"].append({"name": "close_account", "description": "Close the account.",
                         "input_schema": {"type": "object",
                                          "properties": {"customer_id": {"type": "string"}}}})  # fmt: skip
    v2 = tmp_path / "agent.v2.yaml"
    v2.write_text(yaml.safe_dump(doc))
    assert cli("register", v2).code == 0
    data = json.loads(
        cli("policy", "coverage", "support-bot@2", "--since", "support-bot@1", "--json").out
    )
    assert data["new_tools"] == [{"tool": "close_account", "covered": False}]
    assert data["new_fields"] == [
        {"tool": "close_account", "field": "customer_id", "covered": False}
    ]
    r = cli("policy", "coverage", "support-bot@2", "--since", "support-bot@1")
    assert r.code == 0 and "tool close_account (NOT covered)" in r.out


def test_coverage_of_an_agent_without_a_policy_is_a_user_error(cli: Cli, tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE_V1.read_text())
    doc.pop("policy")
    doc["system_prompt"] = "x"
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(doc))
    assert cli("register", f).code == 0
    assert_user_error(cli("policy", "coverage", "support-bot@1"), "pins no policy")
    assert_user_error(cli("policy", "coverage", "ghost@1"), "ghost@1")


def test_approve_and_reject_unknown_ids_and_bad_status_are_user_errors(cli: Cli) -> None:
    assert_user_error(cli("policy", "approve", "apr_nope"), "apr_nope")
    assert_user_error(cli("policy", "reject", "apr_nope"), "apr_nope")
    assert_user_error(cli("policy", "approvals", "--status", "weird"), "--status")
    assert json.loads(cli("policy", "approvals", "--json").out) == []
