"""Audit commands: show the log and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from agentdeck.cli.common import DbOpt, JsonOpt, console, get_store, print_json

app = typer.Typer(no_args_is_help=True, add_completion=False)


@app.command(
    "verify",
    help="Recompute the hash chain; exit 1 if any entry was modified, deleted or reordered.",
)
def verify_cmd(db: DbOpt = None, json: JsonOpt = False) -> None:
    from agentdeck.registry.audit import verify_audit

    report = verify_audit(get_store(db))
    if json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "problems": [{"seq": p.seq, "problem": p.problem} for p in report.problems],
            }
        )
    elif report.ok:
        console.print(f"[green]audit chain verifies[/]: {report.entries} entries")
    else:
        console.print(
            f"[red]audit chain BROKEN[/]: {len(report.problems)} problem(s) in {report.entries} entries"
        )
        for p in report.problems:
            console.print(f"  entry {p.seq}: {escape(p.problem)}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("log", help="Show the audit log, newest last.")
def log_cmd(
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many of the newest entries.")
    ] = 50,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    entries = get_store(db).audit_entries()[-limit:]
    if json:
        print_json(
            [
                {
                    "seq": e.seq,
                    "at": e.at,
                    "actor": e.actor,
                    "action": e.action,
                    "subject": e.subject,
                    "payload": dict(e.payload),
                    "hash": e.hash,
                }
                for e in entries
            ]
        )
        return
    from rich.table import Table

    t = Table()
    for col in ("seq", "at", "actor", "action", "subject", "hash"):
        t.add_column(col)
    for e in entries:
        t.add_row(str(e.seq), e.at[:19], escape(e.actor), e.action, escape(e.subject), e.hash[:12])
    console.print(t)
