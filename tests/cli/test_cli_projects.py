"""``agentdeck projects`` and ``--project``: projects are created and listed (``--json`` too);
keys, agents, policies and runs land in and are listed for one project; ``AGENTDECK_PROJECT``
is the default; an unknown project is a one-line error naming ``--project`` (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentdeck.core.trace.model import Run, SpanStatus
from agentdeck.store import SqlStore
from foundation import Cli, assert_user_error

_SPEC = "name: {}\nmodel: {{provider: openai, id: gpt-4o-2024-08-06}}\n"


def _run(tid: str, agent: str, project: str) -> Run:
    return Run(tid * 32, agent, 1, None, None, None, 1_000, 2_000, SpanStatus.OK,
               project=project)  # fmt: skip


def test_projects_create_and_list(cli: Cli) -> None:
    listed = cli("projects", "list", "--json")
    assert listed.code == 0 and [p["name"] for p in json.loads(listed.out)] == ["default"]
    made = cli("projects", "create", "team-b", "--json")
    assert made.code == 0 and json.loads(made.out)["created_by"] == "tester"
    assert "team-b" in cli("projects", "list").out
    assert_user_error(cli("projects", "create", "Team B"), "name: 'Team B' is not a project name")
    again = cli("projects", "create", "team-b")
    assert again.code == 1 and "project 'team-b' exists already" in again.err


def test_keys_agents_policies_and_runs_per_project(
    cli: Cli, store: SqlStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("projects", "create", "team-b").code == 0
    made = cli("keys", "create", "--name", "b-ci", "--scope", "ingest", "--project", "team-b",
               "--json")  # fmt: skip
    assert made.code == 0 and json.loads(made.out)["project"] == "team-b"
    assert cli("keys", "create", "--name", "a-ci", "--scope", "read").code == 0
    b_keys = json.loads(cli("keys", "list", "--project", "team-b", "--json").out)
    assert [k["name"] for k in b_keys] == ["b-ci"]
    assert [k["name"] for k in json.loads(cli("keys", "list", "--json").out)] == ["a-ci"]
    wide = cli("keys", "create", "--name", "root", "--scope", "admin", "--all-projects", "--json")
    assert wide.code == 0 and json.loads(wide.out)["all_projects"] is True

    spec = tmp_path / "agent.yaml"
    spec.write_text(_SPEC.format("beta"))
    assert cli("register", spec, "--project", "team-b").code == 0
    assert store.agent_project("beta") == "team-b"
    assert_user_error(cli("register", spec), "name: agent 'beta' belongs to another project")

    store.write_batch([_run("a", "alpha", "default"), _run("b", "beta", "team-b")], [])
    runs = json.loads(cli("runs", "--json").out)
    assert [r["agent_name"] for r in runs] == ["alpha"]
    runs = json.loads(cli("runs", "--project", "team-b", "--json").out)
    assert [r["agent_name"] for r in runs] == ["beta"]
    monkeypatch.setenv("AGENTDECK_PROJECT", "team-b")
    assert [r["agent_name"] for r in json.loads(cli("runs", "--json").out)] == ["beta"]
    assert [k["name"] for k in json.loads(cli("keys", "list", "--json").out)] == ["b-ci"]


@pytest.mark.parametrize(
    "args",
    [
        ("runs", "--project", "nope", "--json"),
        ("keys", "list", "--project", "nope"),
        ("keys", "create", "--name", "x", "--scope", "read", "--project", "nope"),
        ("policy", "register", "POLICY", "--project", "nope"),
        ("register", "SPEC", "--project", "nope"),
    ],
)
def test_an_unknown_project_is_one_line_naming_the_option(
    cli: Cli, tmp_path: Path, args: tuple[str, ...]
) -> None:
    spec = tmp_path / "agent.yaml"
    spec.write_text(_SPEC.format("bot"))
    policy = tmp_path / "policy.yaml"
    policy.write_text("name: p\ndefault_effect: allow\nrules: []\n")
    argv = [str(spec) if a == "SPEC" else str(policy) if a == "POLICY" else a for a in args]
    assert_user_error(cli(*argv), "--project: no project 'nope'")
