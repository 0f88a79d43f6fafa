"""A run records where its agent's code lives, so ``agentdeck replay RUN_ID`` works from any
directory without ``--path`` (issue 18: replay failed with ``No module named 'support_bot'``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentdeck.tracing.sdk.code_path import CODE_PATH_ATTR, code_root, recorded_code_paths
from foundation import EXAMPLES

RECORD = """
import sys
sys.path.insert(0, {examples!r})
import agentdeck
from support_bot.agent import run_agent
from support_bot.scripted import ScriptedModel

agentdeck.init()
with agentdeck.run(agent="support-bot@1", input="Where is my order ORD-1001?") as run:
    run.set_output(run_agent("Where is my order ORD-1001?", model=agentdeck.recorded_model(ScriptedModel())))
assert agentdeck.flush()
"""


def test_code_root_is_the_import_root_of_an_imported_entrypoint() -> None:
    assert code_root("json.decoder:JSONDecoder") == str(Path(json.__file__).resolve().parents[1])
    assert code_root("json:loads") == str(Path(json.__file__).resolve().parents[1])
    assert code_root("not_imported_anywhere.mod:fn") is None
    assert code_root(None) is None


def test_a_recorded_path_that_no_longer_exists_is_not_used(tmp_path: Path) -> None:
    assert recorded_code_paths({CODE_PATH_ATTR: str(tmp_path)}) == [tmp_path]
    assert recorded_code_paths({CODE_PATH_ATTR: str(tmp_path / "gone")}) == []
    assert recorded_code_paths(None) == [] and recorded_code_paths({CODE_PATH_ATTR: 3}) == []


@pytest.mark.slow
def test_replay_finds_the_agent_code_recorded_on_the_run_without_path(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDECK_", "OPENAI_"))}
    env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'replay.db'}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agentdeck.cli.main", *args],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    assert cli("policy", "register", str(EXAMPLES / "policy.yaml")).returncode == 0
    assert cli("register", str(EXAMPLES / "agent.v1.yaml")).returncode == 0
    script = tmp_path / "record.py"
    script.write_text(RECORD.format(examples=str(EXAMPLES)))
    done = subprocess.run([sys.executable, str(script)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (run,) = json.loads(cli("runs", "--json").stdout)
    assert run["attributes"][CODE_PATH_ATTR] == str(EXAMPLES.resolve())
    replay = cli("replay", run["trace_id"], "--json")
    assert replay.returncode == 0, replay.stderr
    assert json.loads(replay.stdout)["reproduced"] is True
