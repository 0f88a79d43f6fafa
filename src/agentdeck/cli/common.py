"""Shared CLI plumbing: the console, option bundles, store opening, JSON output.

Every command module imports this at start-up (``agentdeck --help`` included), so it imports
nothing heavy: the store (SQLAlchemy, and numpy through the core models it persists) loads
only when a command opens it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from agentdeck.core.timeparse import parse_time, parse_time_ns

if TYPE_CHECKING:
    from rich.console import Console

    from agentdeck.store import SqlStore

__all__ = [
    "ActorOpt",
    "DbOpt",
    "JsonOpt",
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


class LazyConsole:
    """A Rich console made on first use, so that commands which print only JSON (and
    ``--help``) never import Rich. Attribute access goes to the real console; pass
    :meth:`rich` where Rich wants a ``Console`` object itself (a ``Progress``)."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return self._console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        self.rich().print(*objects, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich(), name)

    @property
    def width(self) -> int:
        return self.rich().width

    @width.setter
    def width(self, value: int) -> None:
        self.rich().width = value


console = LazyConsole()
err_console = LazyConsole(stderr=True)


def escape(text: str) -> str:
    """Rich's markup escape, imported when a command renders (it is Rich start-up time)."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


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


def print_json(value: Any) -> None:
    """Write JSON to stdout (no Rich markup, no wrapping)."""
    typer.echo(
        orjson.dumps(
            value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default
        ).decode()
    )


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    raise TypeError(type(value).__name__)


def fmt_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def short(digest: str, n: int = 12) -> str:
    return digest[: len("sha256:") + n] if digest.startswith("sha256:") else digest[:n]
