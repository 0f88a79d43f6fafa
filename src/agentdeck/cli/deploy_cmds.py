"""Deployment commands: promote, rollback, history, at, mark; and the ``env`` group."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    ProjectOpt,
    actor_name,
    console,
    escape,
    fmt_time,
    get_store,
    parse_time,
    print_json,
    short,
)
from agentdeck.cli.scope import own_store
from agentdeck.core.errors import InputError

if TYPE_CHECKING:  # the services (and the store under them) load inside each command
    from agentdeck.core.deploy.model import Deployment
    from agentdeck.registry.canary import Canaries
    from agentdeck.registry.deployments import Deployments
    from agentdeck.store.protocol import Store

NameArg = Annotated[str, typer.Argument(help="Agent name.", show_default=False)]
EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment.", show_default=False)]

env_app = typer.Typer(no_args_is_help=True, add_completion=False)


def _deployments(store: Store) -> Deployments:
    from agentdeck.composition import deployments_service

    return deployments_service(store)


def _canaries(store: Store) -> Canaries:
    from agentdeck.registry.canary import Canaries

    return Canaries(store, _deployments(store))


def _dep_json(d: Deployment) -> dict[str, Any]:
    from agentdeck.records.versions_json import deployment_json

    return deployment_json(d)


def register(app: typer.Typer) -> None:
    app.command("promote", help="Promote an agent version into an environment, through its gates.")(
        promote_cmd
    )
    app.command(
        "rollback",
        help="Roll an environment back to the previous known-good version (or --to REF).",
    )(rollback_cmd)
    app.command("history", help="The deployment history of an agent in an environment.")(
        history_cmd
    )
    app.command("at", help="Which version was running in an environment at a given time.")(at_cmd)
    app.command(
        "mark", help="Mark the current deployment of an agent in an environment good or bad."
    )(mark_cmd)


def promote_cmd(
    ref: Annotated[
        str,
        typer.Argument(
            help="Agent reference to promote (name@N, name@ENV, ...).", show_default=False
        ),
    ],
    to: Annotated[str, typer.Option("--to", help="Target environment.", show_default=False)],
    force: Annotated[
        bool, typer.Option("--force", help="Override failing gates (needs --reason).")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why; recorded in the history and audit log.")
    ] = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    canary: Annotated[
        float | None,
        typer.Option("--canary", help="Start a canary: this percent of runs on REF, judged."),
    ] = None,
    shadow: Annotated[
        bool, typer.Option("--shadow", help="With --canary: a shadow (candidate never answers).")
    ] = False,
    canary_id: Annotated[
        str | None,
        typer.Option(
            "--canary-id",
            help="With --canary: fix the canary's id (32 hex digits), and with it which "
            "sessions go to REF (a reproducible split; default random).",
        ),
    ] = None,
    project: ProjectOpt = None,
) -> None:
    if canary is not None or shadow:
        from agentdeck.cli import canary_cmds

        canary_cmds.start(ref, to, canary if canary is not None else 10.0, shadow=shadow,
                          force=force, reason=reason, db=db, actor=actor, json=json,
                          canary_id=canary_id, project=project)  # fmt: skip
        return
    if canary_id is not None:
        raise InputError("--canary-id: only with --canary")
    svc = _deployments(own_store(db, project, ref))
    result = svc.promote(ref, to, actor_name(actor), force=force, reason=reason)
    if json:
        print_json(
            {
                "deployment": _dep_json(result.deployment),
                "gates": [
                    {"name": g.name, "passed": g.passed, "reason": g.reason} for g in result.gates
                ],
            }
        )
        return
    from rich.table import Table

    grid = Table.grid(padding=(0, 2, 0, 0), pad_edge=False)
    grid.add_column(no_wrap=True)  # "gate NAME": the reasons wrap in their own column
    grid.add_column(no_wrap=True)
    grid.add_column()
    for g in result.gates:
        mark = "[green]pass[/]" if g.passed else "[red]FAIL[/]"
        grid.add_row(f"  gate {g.name}", mark, escape(g.reason))
    from agentdeck.cli.narrow import print_trimmed

    print_trimmed(grid)
    d = result.deployment
    forced = " [red](forced)[/]" if d.forced else ""
    console.print(
        f"[green]{d.action.value}[/] {d.agent_name}@{d.agent_version} -> [bold]{d.env}[/]{forced}  deployment {d.id[:12]}"
    )


def rollback_cmd(
    name: NameArg,
    env: EnvOpt,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Roll back to this reference instead of the previous known-good."
        ),
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why; recorded.")] = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    svc = _deployments(own_store(db, project, name, to))
    d = svc.rollback(name, env, actor_name(actor), to_ref=to, reason=reason)
    if json:
        print_json(_dep_json(d))
        return
    console.print(
        f"[yellow]rolled back[/] {name} in [bold]{env}[/] to {name}@{d.agent_version} ({short(d.agent_digest)})  deployment {d.id[:12]}"
    )


def history_cmd(
    name: NameArg, env: EnvOpt, db: DbOpt = None, json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:  # fmt: skip
    store = own_store(db, project, name)
    svc = _deployments(store)
    deps = svc.history(name, env)
    if json:
        print_json([_dep_json(d) for d in deps])
        return
    events = _canaries(store).events(name, env)
    if not deps and not events:
        console.print(f"nothing of {name} has been deployed in {env}")
        return
    from agentdeck.cli.deploy_render import print_history

    print_history(f"{name} in {env}", deps, events)


def at_cmd(
    name: NameArg,
    env: EnvOpt,
    time: Annotated[
        str,
        typer.Option(
            "--time", "-t", help="ISO 8601 time (UTC if no offset), 'now', or -15m/-2h/-3d."
        ),
    ],
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    when = parse_time(time)
    store = own_store(db, project, name)
    svc = _deployments(store)
    d = svc.at(name, env, when)
    if json:
        print_json(_dep_json(d) if d else None)
        return
    if d is None:
        console.print(f"nothing of {name} was deployed in {env} at {fmt_time(when)}")
        raise typer.Exit(1)
    console.print(
        f"at {fmt_time(when)}, [bold]{env}[/] ran [bold]{name}@{d.agent_version}[/] {d.agent_digest}\n"
        f"  deployed {fmt_time(d.at)} by {escape(d.actor)} ({d.action.value}: {escape(d.reason)}), deployment {d.id}"
    )
    c = _canaries(store).at(name, env, when)
    if c is not None:
        from agentdeck.registry.canary import PAST

        s = c.start
        kind = "shadow" if c.shadow else "canary"
        share = "no user's runs (it ran on copies)" if c.shadow else f"{c.share:g} % of runs"
        ended = (
            f"{PAST.get(c.end.what, c.end.what)} {fmt_time(c.end.at)} by {escape(c.end.actor)}: "
            f"{escape(c.end.reason)}"
            if c.end is not None
            else "still in progress"
        )
        console.print(
            f"  and a [yellow]{kind}[/] of [bold]{name}@{s.candidate_version}[/]: {share}, "
            f"started {fmt_time(s.at)} by {escape(s.actor)}, {ended} ({kind} {s.canary_id[:12]})"
        )


def mark_cmd(
    name: NameArg,
    env: EnvOpt,
    health: Annotated[str, typer.Argument(help="good or bad.", show_default=False)],
    deployment: Annotated[
        str | None, typer.Option("--deployment", help="A deployment id (default: the current one).")
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    if health not in ("good", "bad"):
        raise InputError(f"health: expected 'good' or 'bad', got {health!r}")
    from agentdeck.core.deploy.model import Health

    svc = _deployments(own_store(db, project, name))
    d = svc.mark(name, env, Health(health), actor_name(actor), deployment)
    if json:
        print_json(_dep_json(d))
        return
    console.print(
        f"marked {name}@{d.agent_version} in {env} (deployment {d.id[:12]}) [bold]{health}[/]"
    )


@env_app.command(
    "list", help="Show the promotion path, each env's current deployments and gate settings."
)
def env_list_cmd(db: DbOpt = None, json: JsonOpt = False) -> None:
    store = get_store(db)
    svc = _deployments(store)
    path = svc.path()
    names = store.list_agent_names()
    rows = []
    for env in path.envs:
        cfg = store.get_gate_config(env)
        heads = {n: h for n in names if (h := store.head(n, env)) is not None}
        rows.append((env, cfg, heads))
    if json:
        print_json(
            [
                {
                    "env": env,
                    "gates": dict(cfg.settings),
                    "disabled": list(cfg.disabled),
                    "deployed": {n: _dep_json(h) for n, h in heads.items()},
                }
                for env, cfg, heads in rows
            ]
        )
        return
    console.print("promotion path: " + " -> ".join(path.envs))
    from rich.table import Table

    t = Table()
    for col in ("env", "deployed", "gate settings", "disabled gates"):
        t.add_column(col)
    for env, cfg, heads in rows:
        deployed = ", ".join(f"{n}@{h.agent_version}" for n, h in heads.items()) or "-"
        t.add_row(
            env,
            deployed,
            escape(str(dict(cfg.settings))) if cfg.settings else "-",
            ", ".join(cfg.disabled) or "-",
        )
    console.print(t)


@env_app.command(
    "path",
    help="Set the promotion path: environments in order (agentdeck env path dev staging production).",
)
def env_path_cmd(
    envs: Annotated[
        list[str], typer.Argument(help="Environments in promotion order.", show_default=False)
    ],
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    svc = _deployments(get_store(db))
    path = svc.set_path(envs, actor_name(actor))
    if json:  # as PUT /api/v1/envs/path answers
        print_json({"envs": list(path.envs)})
        return
    console.print("promotion path: " + " -> ".join(path.envs))


@env_app.command(
    "gates",
    help="Set an environment's gate settings (--set gate.key=value) or disable/enable gates.",
)
def env_gates_cmd(
    env: Annotated[str, typer.Argument(help="Environment.", show_default=False)],
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="gate.key=value (value parsed as JSON when it can be)."),
    ] = None,
    disable: Annotated[
        list[str] | None, typer.Option("--disable", help="Gate name to skip in this env.")
    ] = None,
    enable: Annotated[
        list[str] | None, typer.Option("--enable", help="Gate name to check again.")
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    import orjson

    from agentdeck.core.deploy.model import GateConfig

    svc = _deployments(get_store(db))
    cfg = svc.gate_config(env)
    settings = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.settings.items()}
    for item in set_ or []:
        key, sep, raw = item.partition("=")
        gate, dot, field = key.partition(".")
        if not sep or not dot or not gate or not field:
            raise InputError(f"--set {item!r}: expected gate.key=value")
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        settings.setdefault(gate, {})[field] = value
    disabled = [g for g in cfg.disabled if g not in (enable or [])] + [
        g for g in disable or [] if g not in cfg.disabled
    ]
    new = GateConfig(env, settings, tuple(disabled))
    svc.set_gate_config(new, actor_name(actor))
    if json:
        print_json({"env": env, "gates": settings, "disabled": disabled})
        return
    console.print(f"{env}: gates {escape(str(settings))}; disabled {disabled or '-'}")
