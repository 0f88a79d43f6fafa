"""CLI test plumbing: run ``agentdeck.cli.main.main`` in-process against a SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdeck.cli import common
from agentdeck.cli.main import main
from agentdeck.store import SqlStore, open_store
from foundation import Cli, Result, seed_policy


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``cli("register", "agent.yaml")`` -> exit code, stdout, stderr.

    The database comes from ``AGENTDECK_DATABASE_URL`` (as a user would set it); tests that
    check ``--db`` pass it explicitly. Consoles are 200 columns wide.
    """
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENTDECK_ACTOR", "tester")
    # Wide consoles, so that Rich does not elide table cells (pytest-xdist workers export
    # COLUMNS=80 before the consoles are created, which fixes their width).
    monkeypatch.setattr(common.console, "width", 200)
    monkeypatch.setattr(common.err_console, "width", 200)

    def run(*args: str) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        captured = capsys.readouterr()
        code = info.value.code
        return Result(
            code if isinstance(code, int) else (0 if code is None else 1),
            captured.out,
            captured.err,
        )

    return run


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStore]:
    """The CLI's database, opened directly (to seed it and to count rows)."""
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture
def seeded(store: SqlStore) -> SqlStore:
    """The example's policy ``support-refunds@1`` registered straight through the store."""
    seed_policy(store)
    return store
