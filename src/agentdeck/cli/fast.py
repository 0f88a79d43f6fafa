"""The read commands answered without Typer, pydantic or SQLAlchemy (issue 17: start-up).

:func:`main` in :mod:`.main` hands every command line to :func:`try_fast` first. A command that
has a fast path here reads the SQLite store read-only (:mod:`agentdeck.store.lite`) and prints
through the same renderers and serializers as the full command, or returns False having
printed nothing, and the full command runs. Each fast path steps aside for anything unusual:

- an option it does not know, a form Click might read differently (``-n5``, ``--``), a
  positional argument that starts with ``-``, ``--help``, ``--project``;
- ``AGENTDECK_DATABASE_URL``, ``AGENTDECK_TRACES_URL`` or ``AGENTDECK_PROJECT`` set, or
  ``--db`` other than a plain ``sqlite:///PATH``;
- a store that is missing, not at the migration scripts' heads, or cannot be opened read-only;
- a value or a record the full command would refuse (its error message is the one shown),
  and a record of an agent that belongs to a project other than ``default``.

tests/cli/test_fast_reads.py and test_runs_fast_path.py compare both paths' output.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import sqlite3

__all__ = [
    "DEFAULT_PATH",
    "Parsed",
    "agent_named",
    "command_line",
    "parse",
    "read_store",
    "store_path",
    "try_fast",
]

T = TypeVar("T")

# Must match agentdeck.store.engine.DEFAULT_DIR / DEFAULT_FILE (a test checks). Paths are
# strings here: pathlib (with urllib.parse) is start-up time no renderer needs.
DEFAULT_PATH = os.path.join(".agentdeck", "agentdeck.db")

# The command line's first words -> the module and function that try it.
_FAST: dict[tuple[str, ...], tuple[str, str]] = {
    ("runs",): ("runs_fast", "try_runs"),
    ("trace",): ("trace_fast", "try_trace"),
    ("versions",): ("registry_fast", "try_versions"),
    ("show",): ("registry_fast", "try_show"),
    ("history",): ("history_fast", "try_history"),
    ("policy", "versions"): ("registry_fast", "try_policy_versions"),
}


@dataclass(frozen=True)
class Parsed:
    """A command line as Click would read it: options by name, then the positional words."""

    opts: dict[str, Any] = field(default_factory=dict)
    args: tuple[str, ...] = ()


def parse(
    argv: list[str], valued: dict[str, str], flags: dict[str, str], positionals: int
) -> Parsed | None:
    """``argv`` (after the command's words) read with the options ``valued`` (spelling ->
    name, taking a value) and ``flags`` (spelling -> name), and exactly ``positionals``
    positional words; None if Click might read the line otherwise."""
    opts: dict[str, Any] = {}
    args: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            args.append(arg)
            i += 1
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in flags and not eq:
            opts[flags[name]] = True
        elif name in valued:
            if not eq:
                i += 1
                if i == len(argv):
                    return None
                value = argv[i]
            opts[valued[name]] = value
        else:
            return None
        i += 1
    return Parsed(opts, tuple(args)) if len(args) == positionals else None


def store_path(db: str | None) -> str | None:
    """The SQLite file the full command would open, or None when this path cannot tell (the
    environment names a store or a project, ``--db`` is not a plain ``sqlite:///PATH``)."""
    from agentdeck.settings import is_set

    if any(is_set(v) for v in ("AGENTDECK_DATABASE_URL", "AGENTDECK_TRACES_URL",
                               "AGENTDECK_PROJECT")):  # fmt: skip
        return None  # (another project: the full command checks that it exists)
    if db is None:
        return os.path.join(os.getcwd(), DEFAULT_PATH)
    if not db.startswith("sqlite:///") or "?" in db or db == "sqlite:///:memory:":
        return None
    return db.removeprefix("sqlite:///")


def command_line(
    argv: list[str], valued: dict[str, str], flags: dict[str, str], positionals: int
) -> tuple[Parsed, str] | None:
    """``argv`` read as :func:`parse` reads it, with the SQLite file its ``--db`` names
    (:func:`store_path`); None when either cannot tell."""
    parsed = parse(argv, valued, flags, positionals)
    path = None if parsed is None else store_path(parsed.opts.get("db"))
    return None if parsed is None or path is None else (parsed, path)


def read_store(
    path: str,
    read: Callable[[sqlite3.Connection], T | None],
    also: tuple[type[Exception], ...] = (),
) -> T | None:
    """``read`` on the store at ``path`` opened read-only; None (step aside) when the store
    cannot be read so (:func:`agentdeck.store.lite.open_readonly`), when a query fails
    (:class:`~agentdeck.store.lite.LiteError`, or one of ``also``), or when ``read`` says so."""
    from agentdeck.store.lite import LiteError, open_readonly

    failed: tuple[type[Exception], ...] = (LiteError, *also)
    with open_readonly(path) as conn:
        if conn is None:
            return None
        try:
            return read(conn)
        except failed:
            return None


def agent_named(ref: str) -> str | None:
    """The agent a reference names, as the full commands' project check reads it
    (:func:`agentdeck.cli.scope.own_agent_ref`), or None for text that is no reference."""
    from agentdeck.core.errors import AgentDeckError
    from agentdeck.core.spec.refs import parse_ref

    try:
        return parse_ref(ref).name
    except AgentDeckError:
        return None


def try_fast(args: list[str]) -> bool:
    """Run ``agentdeck ARGS`` on its fast path if it has one that can (True: printed)."""
    for words, (module, func) in _FAST.items():
        if tuple(args[: len(words)]) == words:
            runner = getattr(importlib.import_module(f"agentdeck.cli.{module}"), func)
            return bool(runner(args[len(words) :]))
    return False
