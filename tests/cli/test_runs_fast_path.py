"""``agentdeck runs`` (the table and ``--json``) answers from a SQLite store without Typer,
pydantic or SQLAlchemy (:mod:`agentdeck.cli.runs_fast`; ``--json`` without Rich either), with
output byte-identical to the full command's on the same store for generated filter
combinations and option spellings, the table at 80 and 120 columns; it steps aside (the full
command runs) for a store not at the scripts' heads, a non-SQLite URL, a value the full
command rejects, and an unknown option."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from entry_probe import fast_and_full
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.cli import fast, runs_fast
from agentdeck.cli.console import console, err_console
from agentdeck.cli.main import main
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunCursor
from agentdeck.store import open_store
from agentdeck.store.engine import DEFAULT_DIR, DEFAULT_FILE

AGENTS = ("support-bot", "billing-bot", "triage-bot")
TOOLS = ("search_kb", "issue_refund", "escalate")
T0 = 1_780_000_000 * 10**9
STEP = 60 * 10**9


def _seed(url: str) -> None:
    """150 runs: agents, versions, envs, statuses, outcomes, sessions, users, tools; some
    with a failed or denied tool call, some sharing a start time (the cursor's tie-break)."""
    store = open_store(url)
    runs, spans = [], []
    for i in range(150):
        tid = f"{(i * 2654435761) % 2**64:016x}{i:016x}"
        start = T0 - (i // 2) * STEP  # pairs share a start
        for k, tool in enumerate((TOOLS[i % 3], TOOLS[(i // 3) % 3])):
            bad = k == 1 and i % 7 == 0
            attrs = {"tool.name": tool, **({"tool.denied": True} if bad and i % 2 else {})}
            spans.append(Span(tid, f"{i:012x}{k:04x}", None, tool, SpanKind.TOOL, start + k,
                              start + k + 5, seq=k, attributes=attrs,
                              status=SpanStatus.ERROR if bad else SpanStatus.OK,
                              error="failed" if bad else None))  # fmt: skip
        runs.append(
            Run(trace_id=tid, agent_name=AGENTS[i % 3], agent_version=1 + i % 2,
                agent_digest=f"sha256:{i % 4}", env=("dev", "production")[i % 2],
                deployment_id=None, start_ns=start, end_ns=start + 10,
                status=SpanStatus.ERROR if i % 5 == 0 else SpanStatus.OK,
                input={"q": f"question {i} \u00e9\u4e2d"}, output={"a": i} if i % 4 else None,
                outcome=(Outcome.SUCCESS, Outcome.FAILURE, None)[i % 3],
                session_id=f"s{i % 6}" if i % 2 else None, user_id=f"u{i % 4}")
        )  # fmt: skip
    store.write_batch([], spans)
    store.write_batch(runs, [])
    store.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fast') / 'runs.db'}"
    _seed(url)
    yield url


def _full(argv: list[str], url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """The full command (Typer, the SQLAlchemy store): ``AGENTDECK_DATABASE_URL`` set makes
    the fast path step aside."""
    os.environ["AGENTDECK_DATABASE_URL"] = url
    try:
        with pytest.raises(SystemExit) as exit_:
            main(["runs", *argv])
    finally:
        del os.environ["AGENTDECK_DATABASE_URL"]
    out = capsys.readouterr()
    assert exit_.value.code == 0, (argv, out.err)
    return out.out, out.err


def _fast(argv: list[str], url: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert runs_fast.try_runs([*argv, "--db", url]), "the fast path stepped aside"
    out = capsys.readouterr()
    return out.out, out.err


def _opt(name: str, short: str | None, value: str) -> st.SearchStrategy[list[str]]:
    forms = [[name, value], [f"{name}={value}"]] + ([[short, value]] if short else [])
    return st.sampled_from(forms)


def _maybe(strategy: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    return st.one_of(st.just([]), strategy)


def _values(name: str, short: str | None, values: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return _maybe(st.sampled_from(values).flatmap(lambda v: _opt(name, short, v)))


_CURSOR = RunCursor(T0 - 30 * STEP, f"{(60 * 2654435761) % 2**64:016x}{60:016x}").encode()
ARGS = st.tuples(
    _values("--agent", "-a", (*AGENTS, "nobody")),
    _values("--version", "-v", ("1", "2")),
    _values("--env", "-e", ("dev", "production")),
    _values("--status", None, ("ok", "error", "")),
    _maybe(st.just(["--has-errors"])),
    _maybe(st.just(["--denied"])),
    _values("--outcome", None, ("success", "failure")),
    _values("--tool", None, TOOLS),
    _values("--session", None, ("s1", "s3")),
    _values("--user", None, ("u1", "u2")),
    _values("--since", None, ("2026-05-28T19:00:00Z", "2026-05-28T20:00:00+00:00")),
    _values("--until", None, ("2026-05-28T20:30:00Z",)),
    _values("--limit", "-n", ("1", "2", "7", "50", "200")),
    _values("--cursor", None, (_CURSOR,)),
).flatmap(lambda parts: st.permutations([p for p in parts if p]))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    parts=ARGS,
    json_at=st.one_of(st.none(), st.integers(0, 20)),
    width=st.sampled_from([80, 120]),
)
def test_fast_path_prints_what_the_full_command_prints(
    db: str,
    capsys: pytest.CaptureFixture[str],
    parts: list[list[str]],
    json_at: int | None,
    width: int,
) -> None:
    """``--json`` somewhere on the line, or the table (None) at ``width`` columns."""
    parts = list(parts)
    if json_at is not None:
        parts.insert(min(json_at, len(parts)), ["--json"])
    argv = [a for p in parts for a in p]
    widths = console.width, err_console.width
    console.width = err_console.width = width
    try:
        full = _full([*argv, "--db", db], db, capsys)
        assert _fast(argv, db, capsys) == full
    finally:
        console.width, err_console.width = widths


def test_pages_through_every_run_alike(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A page, the ``next page`` line on stderr, and the page after its cursor; the table's
    pages, their ``next page`` line on stdout, and the end of the list."""
    fast_out, fast_err = _fast(["--json", "-n", "40"], db, capsys)
    assert (fast_out, fast_err) == _full(["--json", "-n", "40", "--db", db], db, capsys)
    assert fast_out.count('"trace_id"') == 40
    cursor = fast_err.split("--cursor ")[1].strip()
    argv = ["--json", "-n", "40", "--cursor", cursor]
    assert _fast(argv, db, capsys) == _full([*argv, "--db", db], db, capsys)
    table, _ = _fast(["-n", "150"], db, capsys)
    assert (table, "") == _full(["-n", "150", "--db", db], db, capsys)
    cursor = table.split("--cursor ")[1].strip()
    argv = ["-n", "5", "--cursor", cursor]
    assert _fast(argv, db, capsys) == _full([*argv, "--db", db], db, capsys)
    assert _fast(argv, db, capsys)[0].strip() == "no more runs"


@pytest.mark.parametrize(
    "argv",
    [
        ["--json", "--status", "bogus"],
        ["--json", "--limit", "0"],
        ["--json", "--limit", "many"],
        ["--json", "--cursor", "not-a-cursor"],
        ["--json", "--since", "yesterday-ish"],
        ["--json", "--help"],
        ["--json", "--agent"],
        ["--json", "-n5"],
        ["--json", "--unknown", "x"],
        ["--query", "refund"],
        ["-q", "refund", "--json"],
        ["--project", "default"],
        ["delete", "--older-than", "1d"],
    ],
)
def test_steps_aside_for_what_the_full_command_must_answer(db: str, argv: list[str]) -> None:
    assert not runs_fast.try_runs([*argv, "--db", db])


def test_steps_aside_for_a_store_not_at_the_scripts_heads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _seed(url)
    with sqlite3.connect(tmp_path / "old.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001_registry'"
                     " WHERE version_num = (SELECT MIN(version_num) FROM alembic_version)")  # fmt: skip
    assert not runs_fast.try_runs(["--json", "--db", url])
    assert not runs_fast.try_runs(["--db", url])
    assert not runs_fast.try_runs(["--json", "--db", f"sqlite:///{tmp_path / 'none.db'}"])
    assert not runs_fast.try_runs(["--json", "--db", "postgresql://127.0.0.1/x"])


def test_default_store_path_is_the_full_commands() -> None:
    assert os.path.join(DEFAULT_DIR, DEFAULT_FILE) == fast.DEFAULT_PATH


def test_runs_json_loads_no_heavy_library_and_matches_the_full_command(
    tmp_path: Path, db: str
) -> None:
    """Through the real entry point in a fresh interpreter, on the default store of the
    working directory: the same bytes as the full command, and none of Typer, Rich, pydantic
    or SQLAlchemy imported."""
    heavy = ("typer", "click", "rich", "pydantic", "pydantic_settings", "sqlalchemy", "alembic")
    argv = ["runs", "--json", "--tool", "escalate", "-n", "5"]
    fast, full = fast_and_full(db, tmp_path, argv, heavy)
    assert b"HEAVY=[]" in fast.stderr, fast.stderr
    assert b"sqlalchemy" in full.stderr  # the comparison ran the full command
    assert fast.stdout == full.stdout
    assert fast.stdout.count(b'"trace_id"') == 5
