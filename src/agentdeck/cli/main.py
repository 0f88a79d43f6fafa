"""The ``agentdeck`` command: thin Typer commands that parse, call one service, and render.

Start-up is kept cheap: the command modules define only signatures and help text at import
time and load their services (the store, SQLAlchemy, monitoring's numpy and scipy, the
server's FastAPI, the CEL engine) inside the command that needs them, and :func:`main` builds
only the module of the command a command line names (:data:`COMMAND_UNITS`), so that
``agentdeck runs --json`` neither imports nor converts the other commands. The root
``--help`` and usage errors build them all and cost little more than Typer itself.
tests/cli/test_cli_startup.py holds that line; bench/cli_startup_bench.py measures it.

The read commands (``runs``, ``trace``, ``versions``, ``show``, ``history``, ``policy
versions``) on a SQLite store do not build the app at all (:mod:`.fast`: stdlib ``sqlite3``, no
Typer, pydantic or SQLAlchemy), so this module imports Typer only inside the functions that
use it.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    import typer


def _usage_errors() -> tuple[type[Any], ...]:
    """Click's exception base: Typer >= 0.25 vendors click (``typer.TyperException`` is its
    base), older Typer uses the ``click`` package, imported only then (it is start-up time)."""
    import typer

    vendored = getattr(typer, "TyperException", None)
    if isinstance(vendored, type):
        return (vendored,)
    try:  # pragma: no cover - Typer < 0.25
        import click
    except ImportError:  # pragma: no cover - typer without click
        return ()
    return (click.ClickException,)  # pragma: no cover


# The command modules in the order the root help lists their commands. ``policy``, ``env``
# and ``audit`` are sub-apps (``env`` lives in deploy_cmds); the rest have ``register(app)``.
UNITS = (
    "registry",
    "deploy",
    "trace",
    "replay",
    "monitor",
    "serve",
    "eval",
    "import",
    "feedback",
    "lifecycle",
    "policy",
    "env",
    "audit",
    "canary",
    "suite",
    "queue",
    "cost",
    "projects",
)

# Which unit defines each top-level command, so that a command line loads (and Typer builds)
# only its own command's module; the root help, a usage error and anything not listed here
# load them all. tests/cli/test_cli_startup.py checks this table against the full app.
COMMAND_UNITS: dict[str, str] = {
    **dict.fromkeys(("register", "versions", "show", "diff", "lint"), "registry"),
    **dict.fromkeys(("promote", "rollback", "history", "at", "mark"), "deploy"),
    **dict.fromkeys(("runs", "trace", "rca"), "trace"),
    "replay": "replay",
    **dict.fromkeys(("baseline", "check", "findings", "monitor", "alerts"), "monitor"),
    **dict.fromkeys(("serve", "keys"), "serve"),
    **dict.fromkeys(("eval", "scores"), "eval"),
    "import": "import",
    "feedback": "feedback",
    **dict.fromkeys(("gc", "export"), "lifecycle"),
    "policy": "policy",
    "env": "env",
    "audit": "audit",
    "canary": "canary",
    "suite": "suite",
    "queue": "queue",
    "cost": "cost",
    "projects": "projects",
}

_SUB_APPS = {
    "policy": ("policy_cmds", "app", "Register, check, test and explain policy sets."),
    "env": (
        "deploy_cmds",
        "env_app",
        "Show and configure environments, the promotion path and gates.",
    ),
    "audit": ("audit_cmds", "app", "Inspect and verify the hash-chained audit log."),
    "canary": ("canary_cmds", "app", "See and steer canaries: status, pause, resume, abort."),
    "suite": (
        "suite_cmds",
        "app",
        "Eval cases from production runs; suites stored in the database.",
    ),
    "queue": ("queue_cmds", "app", "Annotation queues: review and label runs."),
    "cost": ("cost_cmds", "app", "Tokens and cost (USD) per agent version, session, env or day."),
    "projects": ("project_cmds", "app", "Projects: the tenants that own agents, runs and keys."),
}


def _version() -> str:
    """The installed distribution's version (the package metadata: no import of the package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("agentdeck")
    except PackageNotFoundError:  # pragma: no cover - a source tree without metadata
        return "unknown"


def _root_callback() -> Callable[..., None]:
    """The root group's callback, with ``--version`` (Typer is imported here, not at start-up)."""
    import typer

    def print_version(value: bool) -> None:
        if value:
            typer.echo(f"agentdeck {_version()}")
            raise typer.Exit(0)

    def callback(
        version: bool = typer.Option(
            False,
            "--version",
            help="Print the version and exit.",
            is_eager=True,
            callback=print_version,
        ),
    ) -> None:
        """agentdeck (the root group: kept a group even when one command module is loaded)."""

    return callback


def build_app(units: tuple[str, ...] = UNITS) -> typer.Typer:
    """The ``agentdeck`` app with the commands of ``units`` (all of them by default)."""
    import typer

    root = typer.Typer(
        name="agentdeck",
        help="agentdeck: versioned agents, replay-capable traces, behavioural monitoring, tool-call policies, gated promotion and rollback.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
    )
    root.callback()(_root_callback())
    for unit in units:
        if unit in _SUB_APPS:
            module, attr, help_text = _SUB_APPS[unit]
            sub = getattr(importlib.import_module(f"agentdeck.cli.{module}"), attr)
            root.add_typer(sub, name=unit, help=help_text)
        else:
            importlib.import_module(f"agentdeck.cli.{unit}_cmds").register(root)
    return root


def _units_for(argv: list[str]) -> tuple[str, ...]:
    """The one unit the command line names (its first word), or all of them."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first is not None and first in COMMAND_UNITS and argv[0] == first:
        return (COMMAND_UNITS[first],)
    return UNITS


_full_app: typer.Typer | None = None


def __getattr__(name: str) -> Any:
    """``app``: the full app, built on first use (tests and tools that walk the tree)."""
    global _full_app
    if name == "app":
        if _full_app is None:
            _full_app = build_app()
        return _full_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; an agentdeck error becomes one line on stderr and its exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    from agentdeck.cli.fast import try_fast

    if try_fast(args):
        sys.exit(0)
    import typer

    from agentdeck.cli.common import err_console
    from agentdeck.core.errors import AgentDeckError

    app = build_app(_units_for(args))
    try:
        # Non-standalone click returns the code of a ``typer.Exit`` instead of raising it.
        code = app(args=args, standalone_mode=False, prog_name="agentdeck")
    except AgentDeckError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except OSError as exc:  # the file system or the network, said without the class name
        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(f"error: {where}{exc.strerror or exc}", markup=False, soft_wrap=True)
        sys.exit(1)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except _usage_errors() as exc:  # click usage errors arrive here in non-standalone mode
        exc.show()
        sys.exit(exc.exit_code)
    except ModuleNotFoundError as exc:  # an optional extra the command needs is not installed
        from agentdeck.core.extras import missing_extra

        missing = missing_extra(exc)
        if missing is None:
            raise
        err_console.print(f"error: {missing}", markup=False, soft_wrap=True)
        sys.exit(missing.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
