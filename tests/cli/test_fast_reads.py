"""The read commands' fast paths (:mod:`agentdeck.cli.fast`: ``trace``, ``versions``, ``show``,
``history``, ``policy versions``; ``runs`` is in test_runs_fast_path.py) print byte for byte
what the full commands print on the same store, as text at 80 and 120 columns and as
``--json``, and step aside (the full command runs) for what they do not answer."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from entry_probe import fast_and_full

from agentdeck.cli import fast
from agentdeck.cli.console import console, err_console
from agentdeck.cli.main import main
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.store import open_store
from agentdeck.store.engine import DEFAULT_DIR, DEFAULT_FILE
from foundation import EXAMPLE_POLICY, REPO

EXAMPLES = REPO / "examples" / "support-bot"
T0 = 1_780_000_000 * 10**9
TID = "ab" * 16  # a run with every kind of span
LONE = "cd" + "0" * 30  # spans without a run


def _cli(url: str, *argv: str) -> None:
    os.environ["AGENTDECK_DATABASE_URL"] = url
    try:
        with pytest.raises(SystemExit) as exit_:
            main([*argv, "--actor", "tester"] if argv[0] != "env" else list(argv))
    finally:
        del os.environ["AGENTDECK_DATABASE_URL"]
    assert exit_.value.code in (0, None), argv


def _seed_runs(url: str) -> None:
    store = open_store(url)
    messages = [
        {"role": "system", "content": "You help [bold]."},
        {"role": "user", "content": "hi"},
    ]
    spans = [
        Span(TID, "a" * 16, None, "support-bot", SpanKind.AGENT, T0, T0 + 9_000_000, 0,
             SpanStatus.OK, attributes={"agent.name": "support-bot", "agent.version": 1}),
        Span(TID, "b" * 16, "a" * 16, "chat", SpanKind.LLM, T0 + 1, T0 + 2_000_000, 1,
             SpanStatus.OK, inputs={"messages": messages},
             outputs={"message": {"content": "Let me look [red]", "tool_calls": [
                 {"name": "search_kb", "arguments": {"q": "refund"}}]}},
             attributes={"llm.model": "gpt-4o-mini"}, usage=TokenUsage(120, 30)),
        Span(TID, "c" * 16, "a" * 16, "search_kb", SpanKind.TOOL, T0 + 3, T0 + 3_000_000, 2,
             SpanStatus.OK, inputs={"args": {"q": "refund"}}, outputs={"result": ["policy 1"]},
             attributes={"tool.name": "search_kb"}),
        Span(TID, "d" * 16, "a" * 16, "policy", SpanKind.POLICY, T0 + 4, T0 + 4_000_000, 3,
             SpanStatus.OK, outputs={"effect": "deny", "rules": ["no-refunds"]}),
        Span(TID, "e" * 16, "a" * 16, "issue_refund", SpanKind.TOOL, T0 + 5, T0 + 5_000_000, 4,
             SpanStatus.ERROR, error="denied by policy: no-refunds",
             inputs={"args": {"amount": 500}},
             attributes={"tool.name": "issue_refund", "tool.denied": True}),
        Span(TID, "f" * 16, "a" * 16, "judge", SpanKind.EVAL, T0 + 6, T0 + 6_000_000, 5,
             SpanStatus.OK, outputs={"reason": "too terse"},
             attributes={"eval.score": 0.25, "eval.passed": False}),
        Span(LONE, "1" * 16, None, "orphan", SpanKind.TOOL, T0, T0 + 10, 0, SpanStatus.OK),
    ]  # fmt: skip
    run = Run(trace_id=TID, agent_name="support-bot", agent_version=1, agent_digest=None,
              env="dev", deployment_id=None, start_ns=T0, end_ns=T0 + 9_000_000,
              status=SpanStatus.ERROR, input={"q": "refund me"}, output=None,
              outcome=Outcome.FAILURE, outcome_score=0.25, outcome_reason="refund [refused]",
              session_id="s1", user_id="u1")  # fmt: skip
    store.write_batch([run], spans)
    store.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fastreads') / 'reads.db'}"
    _cli(url, "policy", "register", str(EXAMPLES / "policy.yaml"))
    _cli(url, "register", str(EXAMPLES / "agent.v1.yaml"))
    _cli(url, "register", str(EXAMPLES / "agent.v2.yaml"))
    _cli(url, "env", "gates", "production", "--disable", "previous-env")
    _cli(url, "promote", "support-bot@1", "--to", "production", "--reason", "first [ship]")
    _cli(url, "promote", "support-bot@2", "--to", "production", "--canary", "10")
    _cli(url, "canary", "abort", "support-bot", "--env", "production", "--reason", "enough")
    _cli(url, "promote", "support-bot@1", "--to", "dev")
    _seed_runs(url)
    yield url


def _full(argv: list[str], url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The full command: ``AGENTDECK_DATABASE_URL`` set makes the fast path step aside."""
    os.environ["AGENTDECK_DATABASE_URL"] = url
    try:
        with pytest.raises(SystemExit) as exit_:
            main(argv)
    finally:
        del os.environ["AGENTDECK_DATABASE_URL"]
    out = capsys.readouterr()
    assert exit_.value.code in (0, None), (argv, out.err)
    return out.out, out.err


def _fast(argv: list[str], url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert fast.try_fast([*argv, "--db", url]), "the fast path stepped aside"
    out = capsys.readouterr()
    return out.out, out.err


READS = [
    ["versions", "support-bot"],
    ["show", "support-bot@1"],
    ["show", "support-bot"],
    ["policy", "versions", EXAMPLE_POLICY],
    ["policy", "versions", "nothing-here"],
    ["history", "support-bot", "--env", "production"],
    ["history", "support-bot", "-e", "dev"],
    ["history", "--env=staging", "support-bot"],
    ["history", "nobody", "--env", "dev"],
    ["history", "support-bot@1", "--env", "dev"],
    ["trace", TID[:12]],
    ["trace", TID],
    ["trace", LONE],
]


@pytest.fixture(params=[80, 120])
def width(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(console, "width", request.param)
    monkeypatch.setattr(err_console, "width", request.param)
    return int(request.param)


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_text_is_the_full_commands(
    db: str, capsys: pytest.CaptureFixture[str], width: int, argv: list[str]
) -> None:
    full = _full([*argv, "--db", db], db, capsys)
    assert full[0].strip()
    assert _fast(argv, db, capsys) == full


@pytest.mark.parametrize("argv", READS, ids=" ".join)
def test_json_is_the_full_commands(
    db: str, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    words = 2 if argv[0] == "policy" else 1
    argv = [*argv[:words], "--json", *argv[words:]]  # (an option before the arguments)
    full = _full([*argv, "--db", db], db, capsys)
    assert _fast(argv, db, capsys) == full


@pytest.mark.parametrize(
    "argv",
    [
        ["versions", "nobody"],  # the full command's error
        ["versions", "support-bot", "--project", "default"],
        ["versions", "support-bot", "--help"],
        ["versions"],
        ["versions", "a", "b"],
        ["versions", "--", "support-bot"],
        ["show", "support-bot@9"],
        ["show", "support-bot@production"],
        ["show", "support-bot@sha256:8911"],
        ["show", "not a ref!"],
        ["history", "support-bot"],
        ["history", "support-bot", "--env", "nowhere"],
        ["trace", "zzzz"],
        ["trace", "ab"],
        ["trace", TID, "--project", "other"],
        ["runs", "--query", "refund"],
        ["rca", TID],
    ],
    ids=" ".join,
)
def test_steps_aside_for_what_the_full_command_must_answer(db: str, argv: list[str]) -> None:
    assert not fast.try_fast([*argv, "--db", db])


def test_steps_aside_for_another_projects_agent(db: str, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(db.removeprefix("sqlite:///")) as a, sqlite3.connect(path) as b:
        a.backup(b)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO projects (name, created_at, created_by) "
                     "VALUES ('acme', '2026-01-01 00:00:00.000000', 'x')")  # fmt: skip
        conn.execute("UPDATE agent_versions SET project = 'acme'")
    url = f"sqlite:///{path}"
    for argv in (["versions", "support-bot"], ["show", "support-bot@1"],
                 ["history", "support-bot", "--env", "dev"],
                 ["history", "support-bot@1", "--env", "dev"],
                 ["versions", "support-bot@1"]):  # fmt: skip
        assert not fast.try_fast([*argv, "--db", url]), argv


def test_steps_aside_for_a_store_not_at_the_scripts_heads(db: str, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(db.removeprefix("sqlite:///")) as a, sqlite3.connect(path) as b:
        a.backup(b)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001_registry'"
                     " WHERE version_num = (SELECT MIN(version_num) FROM alembic_version)")  # fmt: skip
    for argv in READS:
        assert not fast.try_fast([*argv, "--db", f"sqlite:///{path}"]), argv


def test_default_store_path_is_the_full_commands() -> None:
    assert os.path.join(DEFAULT_DIR, DEFAULT_FILE) == fast.DEFAULT_PATH
    assert fast.store_path(None) == os.path.join(os.getcwd(), DEFAULT_DIR, DEFAULT_FILE)
    assert fast.store_path("") is None  # (``--db=``: the full command says what it makes of it)


@pytest.mark.parametrize(
    "argv",
    [
        ["trace", TID[:12]],
        ["versions", "support-bot"],
        ["history", "support-bot", "--env", "production"],
        ["policy", "versions", "support-refunds"],
    ],
    ids=" ".join,
)
def test_loads_no_heavy_library_through_the_entry_point(
    tmp_path: Path, db: str, argv: list[str]
) -> None:
    """In a fresh interpreter, on the default store of the working directory: the full
    command's bytes, and none of Typer, pydantic or SQLAlchemy imported."""
    heavy = ("typer", "click", "pydantic", "pydantic_settings", "sqlalchemy", "alembic", "yaml",
             "jsonschema", "httpx", "numpy")  # fmt: skip
    fast_, full = fast_and_full(db, tmp_path, argv, heavy, columns=80)
    assert b"HEAVY=[]" in fast_.stderr, fast_.stderr
    assert b"sqlalchemy" in full.stderr  # the comparison ran the full command
    assert fast_.stdout == full.stdout


def test_reads_a_default_store_under_a_directory_with_uri_characters(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read-only URI escapes ``%``, ``?`` and ``#`` of the working directory's path."""
    where = tmp_path / "a %41?b#c"
    (where / DEFAULT_DIR).mkdir(parents=True)
    with (
        sqlite3.connect(db.removeprefix("sqlite:///")) as a,
        sqlite3.connect(where / DEFAULT_DIR / DEFAULT_FILE) as b,
    ):
        a.backup(b)
    expected = _fast(["versions", "support-bot"], db, capsys)
    monkeypatch.chdir(where)
    assert fast.try_fast(["versions", "support-bot"])
    assert capsys.readouterr() == expected
