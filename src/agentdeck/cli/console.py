"""The CLI's output, without Typer: the Rich consoles (made on first use), JSON on stdout, and
the small text helpers every renderer uses.

:mod:`.common` re-exports all of it for the Typer commands; the fast read paths (:mod:`.fast`)
import it directly, so both print through the same console objects and the same JSON writer.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "LazyConsole",
    "console",
    "err_console",
    "escape",
    "fmt_time",
    "json_text",
    "print_json",
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


def json_text(value: Any) -> str:
    """``value`` as the indented JSON every ``--json`` prints."""
    import orjson  # (with uuid and platform: not for text output)

    return orjson.dumps(
        value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=_default
    ).decode()


def print_json(value: Any) -> None:
    """Write JSON to stdout (no Rich markup, no wrapping)."""
    sys.stdout.write(json_text(value) + "\n")
    sys.stdout.flush()


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
