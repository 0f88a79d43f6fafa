"""Policy commands: register, versions, show (check, test, eval, coverage arrive with enforcement)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    actor_name,
    console,
    fmt_time,
    get_store,
    print_json,
    short,
)
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_policy_spec

app = typer.Typer(no_args_is_help=True, add_completion=False)
FileArg = Annotated[Path, typer.Argument(help="Policy file (policy.yaml).", show_default=False)]


@app.command(
    "register",
    help="Register a policy file as a new immutable version (every rule compiled first).",
)
def register_cmd(
    file: FileArg, db: DbOpt = None, actor: ActorOpt = None, json: JsonOpt = False
) -> None:
    policy = load_policy_spec(file)
    pv, created = Registry(get_store(db)).register_policy(
        policy, actor_name(actor), source=str(file)
    )
    if json:
        print_json(
            {"name": pv.name, "version": pv.version, "digest": pv.digest, "created": created}
        )
        return
    verb = "registered" if created else "unchanged, already registered as"
    console.print(f"[green]{verb}[/] [bold]{pv.ref}[/]  {pv.digest}")


@app.command("versions", help="List the registered versions of a policy set.")
def versions_cmd(
    name: Annotated[str, typer.Argument(help="Policy name.")],
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    versions = get_store(db).list_policy_versions(name)
    if json:
        print_json(
            [
                {
                    "version": p.version,
                    "digest": p.digest,
                    "rules": len(p.policy.rules),
                    "created_at": p.created_at,
                }
                for p in versions
            ]
        )
        return
    t = Table(title=f"{name}: policy versions")
    for col in ("version", "digest", "rules", "tests", "default", "created"):
        t.add_column(col)
    for p in versions:
        t.add_row(
            str(p.version),
            short(p.digest),
            str(len(p.policy.rules)),
            str(len(p.policy.tests)),
            p.policy.default_effect.value,
            fmt_time(p.created_at),
        )
    console.print(t)


@app.command("show", help="Show a policy version's rules.")
def show_cmd(
    ref: Annotated[str, typer.Argument(help="name@N or name.")],
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    pv = Registry(get_store(db)).get_policy(ref)
    if json:
        print_json(
            {
                "name": pv.name,
                "version": pv.version,
                "digest": pv.digest,
                "policy": pv.policy.to_dict(),
            }
        )
        return
    console.print(
        f"[bold]{pv.ref}[/] {pv.digest}  default effect: {pv.policy.default_effect.value}"
    )
    t = Table()
    for col in ("rule", "effect", "when", "message"):
        t.add_column(col)
    for r in pv.policy.rules:
        t.add_row(r.id, r.effect.value, escape(r.when), escape(r.message))
    console.print(t)
