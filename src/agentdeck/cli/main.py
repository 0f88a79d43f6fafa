"""The ``agentdeck`` command: thin Typer commands that parse, call one service, and render.

Start-up is kept cheap: the command modules imported here define only signatures and help
text at import time and load their services (the store, SQLAlchemy, monitoring's numpy and
scipy, the server's FastAPI, the CEL engine) inside the command that needs them, so
``agentdeck --help`` and usage errors cost little more than Typer itself.
tests/cli/test_cli_startup.py holds that line; bench/cli_startup_bench.py measures it.
"""

from __future__ import annotations

import sys
from typing import Any

import typer

from agentdeck.cli import (
    audit_cmds,
    deploy_cmds,
    eval_cmds,
    feedback_cmds,
    monitor_cmds,
    policy_cmds,
    registry_cmds,
    replay_cmds,
    serve_cmds,
    trace_cmds,
)
from agentdeck.cli.common import err_console
from agentdeck.core.errors import AgentDeckError


def _usage_errors() -> tuple[type[Any], ...]:
    """Click's exception base: Typer >= 0.25 vendors click (``typer.TyperException`` is its
    base), older Typer uses the ``click`` package, imported only then (it is start-up time)."""
    vendored = getattr(typer, "TyperException", None)
    if isinstance(vendored, type):
        return (vendored,)
    try:  # pragma: no cover - Typer < 0.25
        import click
    except ImportError:  # pragma: no cover - typer without click
        return ()
    return (click.ClickException,)  # pragma: no cover


_USAGE_ERRORS = _usage_errors()

app = typer.Typer(
    name="agentdeck",
    help="agentdeck: versioned agents, replay-capable traces, behavioural monitoring, tool-call policies, gated promotion and rollback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

registry_cmds.register(app)
deploy_cmds.register(app)
trace_cmds.register(app)
replay_cmds.register(app)
monitor_cmds.register(app)
serve_cmds.register(app)
eval_cmds.register(app)
feedback_cmds.register(app)
app.add_typer(policy_cmds.app, name="policy", help="Register, check, test and explain policy sets.")
app.add_typer(
    deploy_cmds.env_app,
    name="env",
    help="Show and configure environments, the promotion path and gates.",
)
app.add_typer(audit_cmds.app, name="audit", help="Inspect and verify the hash-chained audit log.")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; an agentdeck error becomes one line on stderr and its exit code."""
    try:
        # Non-standalone click returns the code of a ``typer.Exit`` instead of raising it.
        code = app(args=argv, standalone_mode=False, prog_name="agentdeck")
    except AgentDeckError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except _USAGE_ERRORS as exc:  # click usage errors arrive here in non-standalone mode
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
