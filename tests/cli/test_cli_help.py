"""Docs are tests: every command has help text and a section in docs/cli.md naming its options;
the ``agentdeck`` console script works as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer.main

from agentdeck.cli.main import app
from foundation import EXAMPLE_V1, REPO, Cli

DOCS = REPO / "docs" / "cli.md"
AGENTDECK = REPO / ".venv" / "bin" / "agentdeck"


def _walk(cmd: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = [(path, cmd)] if path else []
    for name, sub in sorted(getattr(cmd, "commands", {}).items()):
        out.extend(_walk(sub, (*path, name)))
    return out


COMMANDS = _walk(typer.main.get_command(app))
IDS = [" ".join(p) for p, _ in COMMANDS]


def _sections() -> dict[str, str]:
    text = DOCS.read_text("utf-8")
    parts = re.split(r"^## agentdeck (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def test_the_command_tree_is_what_the_docs_describe() -> None:
    assert {
        "register",
        "versions",
        "show",
        "diff",
        "lint",
        "promote",
        "rollback",
        "history",
        "at",
        "mark",
    } <= set(IDS)
    assert {
        "env path",
        "env gates",
        "env list",
        "audit verify",
        "audit log",
        "policy register",
    } <= set(IDS)
    documented = set(_sections())
    assert documented == set(IDS), {
        "undocumented": set(IDS) - documented,
        "not a command": documented - set(IDS),
    }


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=IDS)
def test_every_command_has_help_and_a_doc_section(path: tuple[str, ...], cmd: Any) -> None:
    summary = (cmd.help or cmd.short_help or "").strip()
    assert summary, f"agentdeck {' '.join(path)} has no help text"
    first = summary.splitlines()[0]
    assert len(first) > 10 and not first.endswith(("e.g.", "i.e.")), first
    section = _sections().get(" ".join(path))
    assert section is not None, f"docs/cli.md has no '## agentdeck {' '.join(path)}'"
    assert "```" in section, "each section has a usage block"
    for param in cmd.params:
        for opt in param.opts:
            if opt.startswith("--") and opt != "--help":
                assert f"`{opt}" in section, (
                    f"docs/cli.md: agentdeck {' '.join(path)} does not document {opt}"
                )
    if not hasattr(cmd, "commands"):
        assert f"$ agentdeck {' '.join(path)}" in section, "each command section has an example"


def test_root_help_lists_every_command_with_its_description(cli: Cli) -> None:
    r = cli("--help")
    assert r.code == 0
    top = [(p, c) for p, c in COMMANDS if len(p) == 1]
    for (name,), _cmd in top:
        line = next((ln for ln in r.out.splitlines() if ln.strip().startswith(name + " ")), None)
        assert line is not None, f"{name} missing from agentdeck --help"
        assert len(line.strip()) > len(name) + 5, f"{name} has no one-line description in --help"


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_every_command_help_exits_0(cli: Cli, path: tuple[str, ...]) -> None:
    r = cli(*path, "--help")
    assert r.code == 0
    assert re.search(rf"^Usage: \S+ {' '.join(path)} \[OPTIONS\]", r.out, re.M), r.out


def test_no_arguments_prints_usage() -> None:
    proc = _run_console([])
    assert proc.returncode == 2 and "Usage: agentdeck" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


# -- the real console script ---------------------------------------------------------------


def _run_console(args: list[str], tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    if not AGENTDECK.exists():
        pytest.skip(f"{AGENTDECK} not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["COLUMNS"] = "200"
    if tmp is not None:
        env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{tmp / 'sub.db'}"
    return subprocess.run(
        [str(AGENTDECK), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        cwd=tmp or REPO,
    )


def test_console_script_help() -> None:
    proc = _run_console(["--help"])
    assert proc.returncode == 0
    for name in ("register", "promote", "rollback", "audit"):
        assert name in proc.stdout


def test_console_script_registers_and_refuses(tmp_path: Path) -> None:
    spec = tmp_path / "agent.yaml"
    spec.write_text(
        "name: bot\nmodel: {provider: openai, id: gpt-4o-2024-08-06}\nsystem_prompt: hi\n"
    )
    ok = _run_console(["register", str(spec), "--json"], tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["version"] == 1
    bad = _run_console(
        ["register", str(EXAMPLE_V1)], tmp_path
    )  # pins a policy that is not registered
    assert bad.returncode == 2
    assert (
        bad.stderr.strip().count("\n") == 0
        and "policy" in bad.stderr
        and "Traceback" not in bad.stderr
    )
    blocked = _run_console(["promote", "bot@1", "--to", "production"], tmp_path)
    assert blocked.returncode == 1 and "gate 'previous-env'" in blocked.stderr
