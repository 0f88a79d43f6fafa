"""Bad input: one line on stderr naming the file, field or reference; exit 2; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, Cli, assert_user_error, row_counts


@pytest.fixture
def populated(cli: Cli, seeded: SqlStore) -> SqlStore:
    """A database with a policy, an agent version, a deployment and their audit entries."""
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("promote", "support-bot@1", "--to", "dev").code == 0
    return seeded


def _unchanged(store: SqlStore, before: dict[str, int]) -> None:
    assert row_counts(store) == before
    assert before["agent_versions"] == 1 and before["deployments"] == 1


def test_malformed_yaml_names_file_and_line(cli: Cli, populated: SqlStore, tmp_path: Path) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text(
        "name: support-bot\nmodel:\n  provider: openai\n  id: [unclosed\nsystem_prompt: hi\n"
    )
    before = row_counts(populated)
    r = cli("register", bad)
    assert_user_error(r, str(bad), "line 5", "malformed YAML")
    _unchanged(populated, before)


def test_tab_indentation_names_the_line(cli: Cli, populated: SqlStore, tmp_path: Path) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text("name: support-bot\nmodel:\n\tprovider: openai\n")
    before = row_counts(populated)
    assert_user_error(cli("register", bad), str(bad), "line 3", "malformed YAML")
    _unchanged(populated, before)


def test_spec_failing_the_schema_names_file_and_field(
    cli: Cli, populated: SqlStore, tmp_path: Path
) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text(
        "name: support-bot\nmodel:\n  provider: openai\n  id: gpt-4o-2024-08-06\ntools:\n- name: t\n  input_schema: [1]\n"
    )
    before = row_counts(populated)
    assert_user_error(
        cli("register", bad), f"{bad}: tools[0].input_schema:", "not of type 'object'"
    )
    assert_user_error(cli("lint", bad), f"{bad}: tools[0].input_schema:")
    _unchanged(populated, before)


def test_unknown_top_level_field_is_named(cli: Cli, populated: SqlStore, tmp_path: Path) -> None:
    bad = tmp_path / "agent.yaml"
    bad.write_text(
        "name: support-bot\nmodel: {provider: openai, id: m-2024-01-01}\ntemprature: 0.2\n"
    )
    assert_user_error(cli("register", bad), str(bad), "unknown field", "temprature")


def test_missing_spec_file(cli: Cli, populated: SqlStore, tmp_path: Path) -> None:
    before = row_counts(populated)
    assert_user_error(
        cli("register", tmp_path / "nope.yaml"), str(tmp_path / "nope.yaml"), "no such file"
    )
    _unchanged(populated, before)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["show", "support-bot@7"], ["support-bot@7", "no such version (latest is 1)"]),
        (["show", "ghost"], ["ghost", "no agent of that name"]),
        (["show", "support-bot@sha256:ffff0000"], ["support-bot@sha256:ffff0000", "digest"]),
        (["show", "Not A Ref"], ["Not A Ref", "not a reference"]),
        (["diff", "support-bot@1", "support-bot@3"], ["support-bot@3"]),
        (["versions", "ghost"], ["ghost"]),
        (["promote", "ghost@1", "--to", "dev"], ["ghost@1"]),
        (
            ["show", "support-bot@staging"],
            ["support-bot@staging", "nothing of 'support-bot' is deployed in 'staging'"],
        ),
        (["rollback", "support-bot", "--env", "dev", "--to", "support-bot@9"], ["support-bot@9"]),
        (["policy", "show", "support-refunds@4"], ["support-refunds@4"]),
    ],
)
def test_unknown_reference(
    cli: Cli, populated: SqlStore, args: list[str], words: list[str]
) -> None:
    before = row_counts(populated)
    assert_user_error(cli(*args), *words)
    _unchanged(populated, before)


@pytest.mark.parametrize(
    "args",
    [
        ["promote", "support-bot@1", "--to", "qa"],
        ["rollback", "support-bot", "--env", "qa"],
        ["history", "support-bot", "--env", "qa"],
        ["at", "support-bot", "--env", "qa", "--time", "now"],
        ["mark", "support-bot", "--env", "qa", "good"],
        ["env", "gates", "qa", "--disable", "previous-env"],
    ],
)
def test_env_outside_the_path(cli: Cli, populated: SqlStore, args: list[str]) -> None:
    before = row_counts(populated)
    assert_user_error(
        cli(*args), "environment 'qa'", "not on the promotion path dev -> staging -> production"
    )
    _unchanged(populated, before)


def test_ref_to_an_env_outside_the_path(cli: Cli, populated: SqlStore) -> None:
    assert_user_error(
        cli("show", "support-bot@qa"), "support-bot@qa", "neither a version nor an environment"
    )


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["bogus"], ["No such command 'bogus'"]),
        (["promote", "support-bot@1"], ["Missing option '--to'"]),
        (["history", "support-bot", "--env", "dev", "--colour"], ["No such option"]),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    cli: Cli, populated: SqlStore, args: list[str], words: list[str]
) -> None:
    r = cli(*args)
    assert r.code == 2
    assert "Traceback" not in r.err
    for w in words:
        assert w in r.err


def test_unreachable_database_is_one_line(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    r = cli("versions", "support-bot", "--db", "mysql://localhost/x")
    assert r.code == 1 and "Traceback" not in r.err
    assert (
        r.err.strip()
        == "error: AGENTDECK_DATABASE_URL: unsupported backend 'mysql' (use sqlite or postgresql)"
    )
