"""The ``agentdeck`` command: thin Typer commands that parse, call one service, and render."""

from __future__ import annotations

import sys

import typer

from agentdeck.cli import audit_cmds, deploy_cmds, policy_cmds, registry_cmds
from agentdeck.cli.common import err_console
from agentdeck.core.errors import AgentDeckError

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
app.add_typer(policy_cmds.app, name="policy", help="Register, check, test and explain policy sets.")
app.add_typer(deploy_cmds.env_app, name="env", help="Show and configure environments, the promotion path and gates.")
app.add_typer(audit_cmds.app, name="audit", help="Inspect and verify the hash-chained audit log.")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; an agentdeck error becomes one line on stderr and its exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except AgentDeckError as exc:
        err_console.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(0)


if __name__ == "__main__":  # pragma: no cover
    main()
