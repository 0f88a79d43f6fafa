"""``register``, ``versions``, ``show``, ``diff``, ``lint`` (and ``policy``), in Rich and ``--json``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from agentdeck.registry.specfile import load_agent_spec
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLE_V2, EXAMPLES, Cli, assert_user_error, row_counts


def _register_both(cli: Cli) -> None:
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("register", EXAMPLE_V2).code == 0


def test_register_prints_the_version_and_digest(cli: Cli, seeded: SqlStore) -> None:
    digest = load_agent_spec(EXAMPLE_V1).digest
    r = cli("register", EXAMPLE_V1)
    assert r.code == 0 and r.err == ""
    assert "registered support-bot@1" in r.out and digest in r.out
    again = cli("register", EXAMPLE_V1, "--json")
    out = json.loads(again.out)
    assert {k: out[k] for k in ("name", "version", "ref", "digest", "created")} == {
        "name": "support-bot",
        "version": 1,
        "ref": "support-bot@1",
        "digest": digest,
        "created": False,
    }
    assert [v.created_by for v in seeded.list_agent_versions("support-bot")] == ["tester"]


def test_register_with_explicit_db_and_actor(cli: Cli, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'other.db'}"
    spec = tmp_path / "agent.yaml"
    spec.write_text("name: bot\nmodel: {provider: openai, id: gpt-4o-2024-08-06}\n")
    r = cli("register", spec, "--db", other, "--actor", "alice", "--json")
    assert r.code == 0 and json.loads(r.out)["version"] == 1
    listed = json.loads(cli("versions", "bot", "--db", other, "--json").out)
    assert [(v["version"], v["created_by"]) for v in listed] == [(1, "alice")]
    # The default database (AGENTDECK_DATABASE_URL) was not touched.
    assert_user_error(cli("versions", "bot"), "bot: no agent of that name is registered")


def test_register_refuses_a_missing_pinned_policy_and_writes_nothing(
    cli: Cli, store: SqlStore
) -> None:
    r = cli("register", EXAMPLE_V1)
    assert_user_error(r, str(EXAMPLE_V1), "policy", "support-refunds@1", "does not exist")
    assert row_counts(store) == {
        "agent_versions": 0,
        "policy_versions": 0,
        "deployments": 0,
        "audit_log": 0,
    }


def test_versions_table_and_json(cli: Cli, seeded: SqlStore) -> None:
    _register_both(cli)
    table = cli("versions", "support-bot")
    assert table.code == 0 and "support-bot: versions" in table.out
    assert "gpt-4o-2024-08-06" in table.out and "support-refunds@1" in table.out
    rows = json.loads(cli("versions", "support-bot", "--json").out)
    assert [r["version"] for r in rows] == [1, 2]
    assert rows[1]["digest"] == load_agent_spec(EXAMPLE_V2).digest
    assert rows[0]["created_by"] == "tester"


def test_show_by_version_digest_env_and_latest(cli: Cli, seeded: SqlStore) -> None:
    _register_both(cli)
    v1 = load_agent_spec(EXAMPLE_V1)
    shown = json.loads(cli("show", "support-bot@1", "--json").out)
    assert shown["spec"] == v1.to_dict() and shown["digest"] == v1.digest
    assert json.loads(cli("show", "support-bot", "--json").out)["version"] == 2
    assert json.loads(cli("show", f"support-bot@{v1.digest[:15]}", "--json").out)["version"] == 1
    assert cli("promote", "support-bot@1", "--to", "dev").code == 0
    assert json.loads(cli("show", "support-bot@dev", "--json").out)["version"] == 1
    rich = cli("show", "support-bot@1")
    assert rich.code == 0
    for word in (
        v1.digest,
        "openai/gpt-4o-2024-08-06",
        "lookup_order",
        "issue_refund",
        "support-refunds@1",
        "Verify the customer's identity",
    ):
        assert word in rich.out, word


def test_diff_json_of_the_examples(cli: Cli, seeded: SqlStore) -> None:
    _register_both(cli)
    r = cli("diff", "support-bot@1", "support-bot@2", "--json")
    assert r.code == 0
    d = json.loads(r.out)
    changes = {c["path"]: c for c in d["changes"]}
    assert (
        changes["model.params.temperature"]["before"],
        changes["model.params.temperature"]["after"],
    ) == (0.2, 0.3)
    assert changes["tools.lookup_order.version"]["after"] == "2.0.0"
    assert changes["tools.lookup_order.output_schema.email"]["kind"] == "removed"
    assert changes["tools.lookup_order.output_schema.customer_email"]["kind"] == "added"
    assert changes["system_prompt"]["kind"] == "changed"
    assert d["prompt_diff"][:2] == [
        "--- support-bot@1/system_prompt",
        "+++ support-bot@2/system_prompt",
    ]
    assert (
        "+- Offer store credit first when the customer asks for a refund on a delivered order."
        in d["prompt_diff"]
    )
    assert d["identical"] is False


def test_diff_rich_of_the_examples(cli: Cli, seeded: SqlStore) -> None:
    _register_both(cli)
    r = cli("diff", "support-bot@1", "support-bot@2")
    assert r.code == 0
    for text in (
        "model.params.temperature",
        "0.2",
        "0.3",
        "tools.lookup_order.version",
        "tools.lookup_order.output_schema.email",
        "field removed",
        "tools.lookup_order.output_schema.customer_email",
        "field added (required)",
        "--- support-bot@1/system_prompt",
        "+++ support-bot@2/system_prompt",
        "-You are the customer-support agent of an online shop.",
        "+You are the customer-support agent of an online shop. Be concise and friendly.",
    ):
        assert text in r.out, text
    assert "@@ " in r.out


def test_diff_of_identical_versions(cli: Cli, seeded: SqlStore) -> None:
    _register_both(cli)
    assert "identical" in cli("diff", "support-bot@1", "support-bot@1").out
    assert (
        json.loads(cli("diff", "support-bot@2", "support-bot", "--json").out)["identical"] is True
    )


def test_lint_reports_each_finding_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    spec = tmp_path / "agent.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "bot",
                "model": {"provider": "openai", "id": "gpt-4o"},
                "tools": [{"name": "search", "description": "no schema"}],
            }
        )
    )
    r = cli("lint", spec)
    assert r.code == 1
    assert f"{spec}: model.id: unpinned-model" in r.out and "'gpt-4o'" in r.out
    assert f"{spec}: tools[0].input_schema: tool-without-schema" in r.out
    assert f"{spec}: policy: no-policy" in r.out
    findings = json.loads(cli("lint", spec, "--json").out)
    assert {f["code"] for f in findings} == {
        "unpinned-model",
        "tool-without-schema",
        "tool-without-output-schema",
        "no-policy",
    }


def test_lint_of_a_clean_spec_exits_0(cli: Cli) -> None:
    r = cli("lint", EXAMPLE_V1)
    assert r.code == 0 and "no findings" in r.out
    assert json.loads(cli("lint", EXAMPLE_V2, "--json").out) == []


def test_lint_needs_no_database(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert cli("lint", EXAMPLE_V1).code == 0


def test_policy_register_then_agent_pins_it(cli: Cli, store: SqlStore) -> None:
    policy_file = EXAMPLES / "policy.yaml"
    r = cli("policy", "register", policy_file, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["name"] == "support-refunds" and json.loads(r.out)["version"] == 1
    assert cli("register", EXAMPLE_V1).code == 0
    assert json.loads(cli("policy", "versions", "support-refunds", "--json").out)[0]["version"] == 1
    assert "support-refunds@1" in cli("policy", "show", "support-refunds@1").out


def test_policy_versions_and_show_of_a_seeded_policy(cli: Cli, seeded: SqlStore) -> None:
    rows = json.loads(cli("policy", "versions", "support-refunds", "--json").out)
    assert [r["version"] for r in rows] == [1]
    shown = json.loads(cli("policy", "show", "support-refunds", "--json").out)
    assert shown["policy"]["rules"][0]["id"] == "no-big-refunds"
    assert "no-big-refunds" in cli("policy", "show", "support-refunds@1").out
