"""``agentdeck canary status|pause|resume|abort`` and the canary start behind
``agentdeck promote REF --to ENV --canary N [--shadow]``."""

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
    get_store,
    print_json,
    project_in,
)

if TYPE_CHECKING:
    from agentdeck.core.deploy.canary import Canary
    from agentdeck.registry.canary import Canaries
    from agentdeck.store.protocol import Store

app = typer.Typer(no_args_is_help=True, add_completion=False)

NameArg = Annotated[str, typer.Argument(help="Agent name.", show_default=False)]
EnvOpt = Annotated[str, typer.Option("--env", "-e", help="Environment.", show_default=False)]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why; recorded in the audit log.")]


def _own_store(db: str | None, project: str | None, name: str) -> Store:
    """The store, after refusing (as a missing agent) an agent another project owns."""
    from agentdeck.cli.scope import own_agent

    store = get_store(db)
    own_agent(store, project_in(store, project), name)
    return store


def _service(store: Store) -> Canaries:
    from agentdeck.composition import deployments_service
    from agentdeck.registry.canary import Canaries

    return Canaries(store, deployments_service(store))


def start(
    ref: str, env: str, share: float, *, shadow: bool, force: bool, reason: str,
    db: str | None, actor: str | None, json: bool, canary_id: str | None = None,
    project: str | None = None,
) -> None:  # fmt: skip
    """``promote --canary``: start the canary and show it."""
    from agentdeck.cli.scope import own_agent_ref

    store = get_store(db)
    own_agent_ref(store, project_in(store, project), ref)
    svc = _service(store)
    c = svc.start(ref, env, share, actor_name(actor), shadow=shadow, force=force, reason=reason,
                  canary_id=canary_id)  # fmt: skip
    if json:
        _print_json(c, None)
        return
    kind = "shadow" if c.shadow else "canary"
    plan = " -> ".join(f"{s.share:g} %" for s in c.config.plan)
    console.print(
        f"[green]{kind} started[/] {c.agent_name}@{c.candidate_version} in [bold]{env}[/] "
        f"against @{c.stable_version}: {c.share:g} % of runs  (plan {plan})\n"
        f"  canary {c.id[:12]}; see: agentdeck canary status {c.agent_name} --env {env}"
    )


def _print_json(c: Canary, judgement: dict[str, Any] | None) -> None:
    from agentdeck.records.serialize import canary_json

    print_json(canary_json(c, judgement))


@app.command("status", help="A canary's arms side by side: runs, metrics, bounds, next step.")
def status_cmd(name: NameArg, env: EnvOpt, db: DbOpt = None, json: JsonOpt = False,
               project: ProjectOpt = None) -> None:  # fmt: skip
    svc = _service(_own_store(db, project, name))
    c = svc.get(name, env)
    fresh = svc.evidence(c, svc.evaluate(c)) if c.state.active else dict(c.judgement) or None
    if json:
        _print_json(c, fresh)
        return
    _render(c, fresh)


def _render(c: Canary, j: dict[str, Any] | None) -> None:
    from rich.table import Table

    plan = " -> ".join(
        (f"[bold]{s.share:g}[/]" if i == c.step else f"{s.share:g}")
        for i, s in enumerate(c.config.plan)
    )
    console.print(
        f"{'shadow' if c.shadow else 'canary'} {c.agent_name}@{c.candidate_version} vs "
        f"@{c.stable_version} in [bold]{c.env}[/]: [bold]{c.state.value}[/], "
        f"{c.share:g} % of runs\n  plan (%): {plan}   alpha {c.config.alpha:g}"
    )
    if not j:
        console.print("  no judgement yet")
        return
    if sh := j.get("shadow"):
        console.print(
            f"  shadow: {sh['pairs']} pairs (candidate on a copy of a stable run's input), "
            f"{sh['divergences']} diverged"
        )
    t = Table(title=f"{j['candidate_runs']} candidate / {j['stable_runs']} stable runs")
    for col, just in (("metric", "left"), ("candidate", "right"), ("stable", "right"),
                      ("diff \\[bounds]", "right"), ("p", "right"), ("", "left")):  # fmt: skip
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for m in j["metrics"]:
        t.add_row(
            m["metric"], _num(m["candidate_mean"]), _num(m["stable_mean"]),
            escape(f"{_num(m['estimate'])} [{_num(m['lower'])}, {_num(m['upper'])}]"),
            f"{m['p_value']:.2g}", "[red]BREACH[/]" if m["breached"] else "",
        )  # fmt: skip
    console.print(t)
    console.print(f"  decision: [bold]{j['decision']}[/]: {escape(j['reason'])}")
    if c.state.active:
        console.print("  rolls back at once if any of these holds (bounds are always valid):")
        for m in j["metrics"]:
            console.print(f"    {escape(m['stop_rule'])}")


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.3g}"


def _control(what: str, name: str, env: str, reason: str, db: str | None,
             actor: str | None, json: bool, project: str | None) -> None:  # fmt: skip
    svc = _service(_own_store(db, project, name))
    c = getattr(svc, what)(name, env, actor_name(actor), reason)
    if json:
        _print_json(c, None)
        return
    console.print(f"canary {c.agent_name}@{c.candidate_version} in {env}: [bold]{c.state.value}[/]"
                  f" ({c.share:g} % of runs)")  # fmt: skip


@app.command("pause", help="Hold a canary at its share (no advance; a breach still rolls back).")
def pause_cmd(name: NameArg, env: EnvOpt, reason: ReasonOpt = "", db: DbOpt = None,
              actor: ActorOpt = None, json: JsonOpt = False,
              project: ProjectOpt = None) -> None:  # fmt: skip
    _control("pause", name, env, reason, db, actor, json, project)


@app.command("resume", help="Let a paused canary advance again.")
def resume_cmd(name: NameArg, env: EnvOpt, reason: ReasonOpt = "", db: DbOpt = None,
               actor: ActorOpt = None, json: JsonOpt = False,
               project: ProjectOpt = None) -> None:  # fmt: skip
    _control("resume", name, env, reason, db, actor, json, project)


@app.command("abort", help="Stop a canary now: every run back on the stable version.")
def abort_cmd(name: NameArg, env: EnvOpt, reason: ReasonOpt = "", db: DbOpt = None,
              actor: ActorOpt = None, json: JsonOpt = False,
              project: ProjectOpt = None) -> None:  # fmt: skip
    _control("abort", name, env, reason, db, actor, json, project)
