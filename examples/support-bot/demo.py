"""The agentdeck demo: the life of the support-bot agent, told with the real CLI commands.

Runs on the embedded SQLite store at .agentdeck/demo.db (recreated each time), so it never
touches your own .agentdeck/agentdeck.db. Each step prints the command it runs, then its output.
"""

from __future__ import annotations

import os
import shlex
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.panel import Panel
from rich.rule import Rule

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
DB = ROOT / ".agentdeck" / "demo.db"
URL = f"sqlite:///{DB}"

console = Console(highlight=False)


def agentdeck(cmd: str, expect: int = 0) -> int:
    """Run one agentdeck command in-process, echoing it as a user would type it."""
    from agentdeck.cli.main import main

    console.print(f"[bold cyan]$ agentdeck {cmd}[/]")
    try:
        main(shlex.split(cmd))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    if code != expect:
        console.print(f"[red]demo: expected exit {expect}, got {code}[/]")
        sys.exit(1)
    console.print()
    return code


def step(title: str, story: str) -> None:
    console.print(Rule(f"[bold]{title}"))
    console.print(Panel(story, border_style="dim"))


def main() -> None:
    started = time.perf_counter()
    DB.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DB}{suffix}").unlink(missing_ok=True)
    os.environ["AGENTDECK_DATABASE_URL"] = URL
    os.environ.setdefault("AGENTDECK_ACTOR", "demo:alice")
    os.chdir(HERE)

    step("1. Register", "The refund policy and version 1 of the support agent become immutable, content-addressed artifacts.")
    agentdeck("policy register policy.yaml")
    agentdeck("lint agent.v1.yaml")
    agentdeck("register agent.v1.yaml")
    agentdeck("register agent.v1.yaml")  # identical content: same version, nothing new

    step("2. Promote v1", "dev -> staging -> production. Each environment checks its gates.")
    agentdeck("promote support-bot@1 --to dev")
    agentdeck("promote support-bot@1 --to staging")
    agentdeck("promote support-bot@1 --to production")
    agentdeck("mark support-bot --env production good")

    step("3. Version 2", "A new prompt, a warmer temperature, and lookup_order's response schema changed.")
    agentdeck("register agent.v2.yaml")
    agentdeck("diff support-bot@1 support-bot@2")
    console.print("[dim]Skipping staging is refused by the previous-env gate:[/]")
    agentdeck("promote support-bot@2 --to production", expect=1)
    agentdeck("promote support-bot@2 --to dev")
    agentdeck("promote support-bot@2 --to staging")
    agentdeck("promote support-bot@2 --to production")
    incident = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 1))
    time.sleep(1.2)

    step("4. Roll back", "v2 misbehaves in production: one command puts the last known-good version back.")
    agentdeck("rollback support-bot --env production --reason 'refund flow broken after lookup_order change'")
    agentdeck("history support-bot --env production")
    agentdeck(f"at support-bot --env production --time {incident}")
    agentdeck("audit verify")

    elapsed = time.perf_counter() - started
    console.print(Rule("[bold]Explore further"))
    console.print(
        f"The demo's store is {DB.relative_to(ROOT)} ({elapsed:.1f} s). Point the CLI at it:\n\n"
        f"  export AGENTDECK_DATABASE_URL={URL}\n"
        "  .venv/bin/agentdeck versions support-bot\n"
        "  .venv/bin/agentdeck show support-bot@production\n"
        "  .venv/bin/agentdeck diff support-bot@1 support-bot@2 --json\n"
        "  .venv/bin/agentdeck history support-bot --env production\n"
        "  .venv/bin/agentdeck audit log"
    )


if __name__ == "__main__":
    main()
