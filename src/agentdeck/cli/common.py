"""Shared CLI plumbing: option bundles, store opening, and (from :mod:`.console`) the console and
JSON output.

Every command module imports this at start-up (``agentdeck --help`` included), so it imports
nothing heavy: the store (SQLAlchemy, and numpy through the core models it persists) loads
only when a command opens it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.cli.console import (
    LazyConsole,
    console,
    err_console,
    escape,
    fmt_time,
    print_json,
    short,
)
from agentdeck.core.timeparse import parse_time, parse_time_ns

if TYPE_CHECKING:
    from agentdeck.store import SqlStore

__all__ = [
    "ActorOpt",
    "DbOpt",
    "JsonOpt",
    "LazyConsole",
    "ProjectOpt",
    "actor_name",
    "console",
    "err_console",
    "escape",
    "fmt_time",
    "get_store",
    "parse_time",
    "parse_time_ns",
    "print_json",
    "project_in",
    "project_name",
    "short",
]


JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (default: AGENTDECK_DATABASE_URL or .agentdeck/agentdeck.db).",
        envvar="AGENTDECK_DATABASE_URL",
    ),
]
ActorOpt = Annotated[
    str | None,
    typer.Option("--actor", help="Who is acting (default: AGENTDECK_ACTOR or the OS user)."),
]
ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project",
        help="The project to read and act in (default: AGENTDECK_PROJECT or default).",
    ),
]


def get_store(db: str | None) -> SqlStore:
    """Open (and migrate) the store; the import is here so commands that never open it,
    and ``--help``, do not pay for SQLAlchemy."""
    from agentdeck.store import open_store

    return open_store(db)


def actor_name(actor: str | None) -> str:
    if actor:
        return actor
    from agentdeck.settings.env import CliEnv, read

    env_actor = read(CliEnv).actor
    if env_actor:
        return env_actor
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def project_name(project: str | None) -> str:
    """``--project``, else ``AGENTDECK_PROJECT``, else ``default`` (not checked: see
    :func:`project_in`)."""
    if project:
        return project
    from agentdeck.settings import is_set

    if not is_set("AGENTDECK_PROJECT"):
        return "default"  # (without loading the settings catalogue: fast JSON reads)
    from agentdeck.settings.env import CliEnv, read

    return read(CliEnv).project or "default"


def project_in(store: Any, project: str | None) -> str:
    """The project to act in, checked against ``store``: an unknown one is a one-line error
    naming ``--project`` (exit 2)."""
    from agentdeck.registry.projects import require_project

    return require_project(store, project_name(project), "--project")
