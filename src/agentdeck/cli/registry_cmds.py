"""Registry commands: register, versions, show, diff, lint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    ProjectOpt,
    actor_name,
    console,
    escape,
    get_store,
    print_json,
    project_in,
)

FileArg = Annotated[Path, typer.Argument(help="Agent spec file (agent.yaml).", show_default=False)]
RefArg = Annotated[
    str,
    typer.Argument(
        help="Reference: name, name@N, name@sha256:<hex> or name@ENV.", show_default=False
    ),
]


def register(app: typer.Typer) -> None:
    app.command("register", help="Register an agent spec file as a new immutable version.")(
        register_cmd
    )
    app.command("versions", help="List the registered versions of an agent.")(versions_cmd)
    app.command("show", help="Show one agent version: model, prompt, tools, policy.")(show_cmd)
    app.command("diff", help="Semantic diff between two agent versions.")(diff_cmd)
    app.command(
        "lint",
        help="Check a spec file for unpinned models, tools without schemas and missing policy.",
    )(lint_cmd)


def register_cmd(
    file: FileArg,
    db: DbOpt = None,
    actor: ActorOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.registry.specfile import load_agent_spec

    spec = load_agent_spec(file)  # a bad file is refused before the store is even imported
    from agentdeck.registry.service import Registry

    store = get_store(db)
    av, created = Registry(store).register_agent(
        spec, actor_name(actor), source=str(file), project=project_in(store, project)
    )
    if json:
        from agentdeck.records.versions_json import agent_version_json

        print_json({**agent_version_json(av), "created": created})
        return
    verb = "registered" if created else "unchanged, already registered as"
    console.print(f"[green]{verb}[/] [bold]{av.ref}[/]  {av.digest}", soft_wrap=True)  # copyable


def versions_cmd(
    name: Annotated[str, typer.Argument(help="Agent name.")],
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_store
    from agentdeck.registry.service import Registry

    store = own_store(db, project, name)
    versions = Registry(store).versions(name)
    if json:
        from agentdeck.records.versions_json import agent_version_json

        print_json([agent_version_json(v) for v in versions])
        return
    from agentdeck.cli.registry_render import print_agent_versions

    print_agent_versions(name, versions)


def show_cmd(
    ref: RefArg, db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None
) -> None:
    from agentdeck.cli.scope import own_store
    from agentdeck.registry.service import Registry

    store = own_store(db, project, ref)
    av = Registry(store).get(ref)
    if json:
        from agentdeck.records.versions_json import agent_version_json

        print_json(agent_version_json(av, spec=True))
        return
    from agentdeck.cli.registry_render import print_agent_version

    print_agent_version(av)


def diff_cmd(
    a: RefArg, b: RefArg, db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None
) -> None:
    from agentdeck.cli.render_diff import render_diff
    from agentdeck.cli.scope import own_store
    from agentdeck.records.serialize import cost_change_json
    from agentdeck.registry.service import Registry
    from agentdeck.tracing.analysis.cost import version_cost_change

    store = own_store(db, project, a, b)
    d = Registry(store).diff(a, b)
    cost = version_cost_change(store, d)
    if json:
        print_json({**d.to_dict(), "cost": cost_change_json(cost)})
        return
    render_diff(console.rich(), d)
    console.print(escape(cost.text()))


def lint_cmd(file: FileArg, json: JsonOpt = False) -> None:
    from agentdeck.core.spec.agent import lint_agent_spec
    from agentdeck.registry.specfile import load_agent_spec

    spec = load_agent_spec(file)
    findings = lint_agent_spec(spec)
    if json:
        print_json([{"field": f.field, "code": f.code, "message": f.message} for f in findings])
    elif not findings:
        console.print(f"[green]ok[/] {file}: no findings")
    else:
        for f in findings:
            console.print(f"[yellow]{file}: {f.field}: {f.code}[/]: {escape(f.message)}")
    if findings:
        raise typer.Exit(1)
