"""Failing commands speak plainly: one line, no traceback and no internal class name
(``UnresolvedReferenceError``, ``ReferenceError_``, ``OSError``...) in what the user reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentdeck.core.errors import AgentDeckError
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLES, Cli

# A CamelCase word ending like an exception class, or a class name with a trailing underscore.
CLASS_NAME = re.compile(
    r"\b[A-Z][A-Za-z0-9]*(?:Error|Exception|Denied|Blocked|Warning)_?\b|\b[A-Z]\w*[a-z]_\b"
)


def _agentdeck_error_names() -> set[str]:
    seen: set[str] = set()
    todo: list[type[BaseException]] = [AgentDeckError]
    while todo:
        cls = todo.pop()
        if cls.__name__ not in seen:
            seen.add(cls.__name__)
            todo.extend(cls.__subclasses__())
    return seen


def test_the_pattern_catches_what_the_issue_saw() -> None:
    for leaked in ("error: ReferenceError_: x", "UnresolvedReferenceError: x", "OSError: y",
                   "GateBlocked", "raised KeyError"):  # fmt: skip
        assert CLASS_NAME.search(leaked), leaked
    assert not CLASS_NAME.search("error: support-bot@9: no such version (latest is 2)")


@pytest.fixture
def populated(cli: Cli, seeded: SqlStore) -> SqlStore:
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("promote", "support-bot@1", "--to", "dev").code == 0
    return seeded


def _bad_files(tmp: Path) -> dict[str, Path]:
    yaml = tmp / "bad.yaml"
    yaml.write_text("x: [\n")
    binary = tmp / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    return {"yaml": yaml, "binary": binary, "dir": tmp, "missing": tmp / "nope.yaml"}


FAILING: list[tuple[str, ...]] = [
    ("show", "nope@3"),
    ("show", "support-bot@9"),
    ("show", "support-bot@sha256:zz"),
    ("trace", "deadbeef"),
    ("rca", "deadbeef"),
    ("replay", "deadbeef"),
    ("check", "deadbeef"),
    ("policy", "simulate", "support-refunds@2", "--agent", "support-bot"),
    ("policy", "show", "nope"),
    ("policy", "test", "support-refunds@9"),
    ("promote", "nope@1", "--to", "dev"),
    ("promote", "support-bot@1", "--to", "moon"),
    ("promote", "support-bot@1", "--to", "production"),
    ("diff", "support-bot@1", "nope@1"),
    ("baseline", "show", "nope"),
    ("baseline", "create", "x", "--agent", "nope"),
    ("alerts", "ack", "nope"),
    ("keys", "revoke", "nope"),
    ("keys", "create", "--name", "a", "--scope", "bogus"),
    ("env", "gates", "staging", "--set", "eval=3"),
    ("mark", "support-bot", "--env", "dev", "great"),
    ("monitor", "--agent", "support-bot", "--env", "production"),
    ("runs", "--cursor", "zzz"),
    ("runs", "--since", "yesterday"),
    ("runs", "--status", "maybe"),
    ("at", "support-bot", "--env", "dev", "--time", "noon"),
    ("history", "support-bot", "--env", "moon"),
    ("runs", "--db", "foo://bar"),
    ("runs", "--db", "postgresql://nobody@127.0.0.1:1/x"),
    ("register", "{yaml}"),
    ("register", "{binary}"),
    ("register", "{dir}"),
    ("register", "{missing}"),
    ("lint", "{yaml}"),
    ("eval", "{missing}", "--agent", "support-bot@1"),
    ("monitor", "--rules", "{yaml}"),
    ("policy", "register", "{yaml}"),
    ("policy", "simulate", "{yaml}", "--agent", "support-bot"),
    ("import", "{binary}", "--agent", "support-bot"),
    ("audit", "verify", "--checkpoint", "{yaml}"),
    ("audit", "checkpoint", "--key", "{missing}"),
]


@pytest.mark.parametrize("argv", FAILING, ids=" ".join)
def test_a_failing_command_says_what_went_wrong_plainly(
    cli: Cli, populated: SqlStore, tmp_path: Path, argv: tuple[str, ...]
) -> None:
    files = _bad_files(tmp_path)
    args = [a.format(**{k: str(v) for k, v in files.items()}) for a in argv]
    r = cli(*args)
    assert r.code != 0, (args, r.out)
    said = r.out + r.err
    assert "Traceback" not in said
    assert not CLASS_NAME.search(said), said
    assert not any(name in said for name in _agentdeck_error_names()), said
    lines = [ln for ln in r.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.err


def test_the_examples_policy_file_is_at_hand() -> None:
    assert (EXAMPLES / "policy.yaml").is_file()  # the simulate cases name a real policy
