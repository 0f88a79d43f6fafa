"""``agentdeck projects``: the projects that own agents, policies, runs and keys."""

from __future__ import annotations

from typing import Annotated

import typer

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    actor_name,
    console,
    escape,
    fmt_time,
    get_store,
    print_json,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.command("create", help="Create a project (a lowercase slug such as team-a).")
def create_cmd(
    name: Annotated[str, typer.Argument(help="The project's name.", show_default=False)],
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.records.serialize import project_json
    from agentdeck.registry.projects import create_project

    p = create_project(get_store(db), name, actor_name(actor))
    if json:
        print_json(project_json(p))
        return
    console.print(f"created project [bold]{escape(p.name)}[/]")


@app.command("list", help="List the projects.")
def list_cmd(db: DbOpt = None, json: JsonOpt = False) -> None:
    from agentdeck.records.serialize import project_json

    found = get_store(db).list_projects()
    if json:
        print_json([project_json(p) for p in found])
        return
    from rich.table import Table

    t = Table(title=f"projects ({len(found)})")
    for col in ("name", "created", "by"):
        t.add_column(col)
    for p in found:
        t.add_row(escape(p.name), fmt_time(p.created_at), escape(p.created_by))
    console.print(t)
