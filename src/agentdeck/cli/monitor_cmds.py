"""Monitoring commands: baseline, check, findings, monitor, alerts."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agentdeck.cli.common import (
    ActorOpt,
    DbOpt,
    JsonOpt,
    ProjectOpt,
    actor_name,
    console,
    err_console,
    fmt_time,
    get_store,
    parse_time,
    print_json,
    project_in,
)
from agentdeck.core.errors import InputError, UnresolvedReferenceError

if TYPE_CHECKING:  # monitoring (numpy, scipy, genson) and the store load inside the commands
    from agentdeck.core.behaviour.records import AlertRecord, FindingRecord

baseline_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)
alerts_app = typer.Typer(rich_markup_mode=None)

AgentOpt = Annotated[
    str,
    typer.Option(
        "--agent", help="Agent: name (all versions) or name@N / name@sha256:... / name@ENV."
    ),
]
EnvOpt = Annotated[str | None, typer.Option("--env", help="Only runs of this environment.")]


def register(app: typer.Typer) -> None:
    app.add_typer(baseline_app, name="baseline", help="Create, list and show behaviour baselines.")
    app.command("check", help="Run the per-run checks on one stored run and store its findings.")(
        check_cmd
    )
    app.command("findings", help="List stored per-run check findings.")(findings_cmd)
    app.command(
        "monitor",
        help="Compare a recent window of runs with a baseline; evaluate alert rules (--follow).",
    )(monitor_cmd)
    app.add_typer(alerts_app, name="alerts", help="List open alerts; acknowledge or resolve one.")


@contextmanager
def _progress(label: str) -> Iterator[Any]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed} runs"),
        TimeElapsedColumn(), console=err_console.rich(), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(label, total=None)
        yield lambda n: bar.advance(task, n)


# -- baseline --------------------------------------------------------------------------------


@baseline_app.command(
    "create", help="Compute a behaviour profile from stored runs and store it as NAME."
)
def baseline_create(
    name: Annotated[str, typer.Argument(help="Baseline name.", show_default=False)],
    agent: AgentOpt,
    env: EnvOpt = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Runs started at or after (ISO 8601, -2h, now).")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Runs started before.")] = None,
    eval_run: Annotated[
        str | None, typer.Option("--eval-run", help="Runs whose attribute eval.run_id is this id.")
    ] = None,
    actor: ActorOpt = None,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_agent_ref
    from agentdeck.monitor.profiles import baseline_summary, create_baseline, select_runs

    store = get_store(db)
    own_agent_ref(store, project_in(store, project), agent)
    sel = select_runs(
        store, agent, env,
        parse_time(since, "--from") if since else None,
        parse_time(until, "--to") if until else None,
        eval_run,
    )  # fmt: skip
    with _progress(f"profiling {sel.describe()}") as advance:
        rec, profile = create_baseline(store, name, sel, actor_name(actor), progress=advance)
    if json_:
        print_json(baseline_summary(rec, profile))
        return
    console.print(
        f"baseline {rec.name}: {rec.n_runs} runs of {rec.selection}", markup=False, soft_wrap=True
    )


@baseline_app.command("list", help="List baselines.")
def baseline_list(
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import visible_agents

    store = get_store(db)
    visible = visible_agents(store, project_in(store, project))
    recs = [r for r in store.list_baselines(agent) if visible(r.agent_name)]
    if json_:
        from agentdeck.records.serialize import baseline_json

        print_json([baseline_json(r) for r in recs])
        return
    from rich.table import Table

    t = Table("name", "agent", "env", "runs", "selection", "created")
    for r in recs:
        t.add_row(
            r.name, r.agent_name, r.env or "-", str(r.n_runs), r.selection, fmt_time(r.created_at)
        )
    console.print(t)


@baseline_app.command(
    "show", help="Show a baseline's headline numbers (--json: the whole summary)."
)
def baseline_show(
    name: Annotated[str, typer.Argument(help="Baseline name.", show_default=False)],
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.monitor.profiles import baseline_summary, load_baseline

    store = get_store(db)
    _own_baseline(store, project_in(store, project), name)
    rec, profile = load_baseline(store, name)
    info = baseline_summary(rec, profile)
    if json_:
        print_json(info)
        return
    from rich.table import Table

    t = Table("field", "value", show_header=False)
    for key in ("name", "agent", "env", "selection", "runs", "created_at", "created_by"):
        t.add_row(key, str(info[key] if info[key] is not None else "-"))
    t.add_row("completion rate", f"{profile.completion_rate:.3f}")
    t.add_row("error rate", f"{profile.error_rate:.3f}")
    v = profile.validity_rate()
    t.add_row("args validity", "-" if v is None else f"{v:.3f}")
    t.add_row("steps range", str(profile.steps_range or "-"))
    t.add_row("tools", ", ".join(f"{k} {p:.1%}" for k, p in profile.tool_frequencies().items()))
    console.print(t)


# -- checks ----------------------------------------------------------------------------------


def _finding_json(r: FindingRecord) -> dict[str, Any]:
    from agentdeck.records.serialize import finding_json

    return finding_json(r)


def check_cmd(
    run_id: Annotated[
        str, typer.Argument(help="Run (trace) id, or a unique prefix.", show_default=False)
    ],
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_run
    from agentdeck.monitor.checks import check_trace, checked_json

    store = get_store(db)
    checked = check_trace(store, own_run(store, project_in(store, project), run_id))
    doc = checked_json(checked)  # the API's answer (POST /api/v1/runs/{id}/check)
    rows = doc["findings"]
    provisional = checked.run.provisional
    if json_:
        print_json(doc)
        return
    if provisional:
        console.print(
            f"run {checked.run.trace_id} is provisional (its root span has not arrived): "
            "findings shown, not stored; the real run is checked when it arrives",
            markup=False,
        )
    if not rows:
        console.print(f"run {checked.run.trace_id}: no findings", markup=False)
        return
    from agentdeck.cli.narrow import print_rows

    print_rows(
        ("span", "check", "severity"),
        [
            ((str(r["span_id"] or "(run)"), str(r["check"]), str(r["severity"])), r["explanation"])
            for r in rows
        ],
        title=f"run {checked.run.trace_id}",
    )


def findings_cmd(
    agent: Annotated[str | None, typer.Option("--agent", help="Only this agent's.")] = None,
    check: Annotated[str | None, typer.Option("--check", help="Only this check.")] = None,
    run: Annotated[str | None, typer.Option("--run", help="Only this run.")] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Found at or after (ISO 8601, -1h).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many, newest first.")] = 100,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_run

    store = get_store(db)
    in_project = project_in(store, project)
    found = store.list_findings(
        agent,
        check,
        own_run(store, in_project, run) if run else None,
        parse_time(since, "--since") if since else None,
        limit,
        project=in_project,
    )
    if json_:
        print_json([_finding_json(f) for f in found])
        return
    if not found:
        console.print("no findings", markup=False)
        return
    from agentdeck.cli.narrow import print_rows

    print_rows(
        ("at (UTC)", "run", "span", "agent", "check", "severity"),
        [
            ((fmt_time(f.at).removesuffix(" UTC"), f.trace_id[:12], f.span_id or "-",
              f.agent_name or "-", f.check, f.severity), f.explanation)
            for f in found
        ],
    )  # fmt: skip


# -- monitor ---------------------------------------------------------------------------------


def _alert_json(r: AlertRecord) -> dict[str, Any]:
    from agentdeck.records.serialize import alert_json

    return alert_json(r)


def monitor_cmd(
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent to compare (name or name@N/@sha256/@ENV).")
    ] = None,
    env: EnvOpt = None,
    window: Annotated[str, typer.Option("--window", help="Window length: 15m, 1h, 7d.")] = "1h",
    baseline: Annotated[
        str | None,
        typer.Option("--baseline", help="Baseline name (default: the agent's latest for the env)."),
    ] = None,
    rules: Annotated[
        str | None, typer.Option("--rules", help="Alert rules YAML to evaluate.")
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Evaluate the alert rules every --interval until Ctrl-C."),
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", help="Seconds between evaluations with --follow.")
    ] = 60.0,
    iterations: Annotated[
        int | None, typer.Option("--iterations", help="Stop after this many evaluations.")
    ] = None,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    if follow and rules is None:
        raise InputError("--follow: needs --rules FILE (the alert rules to evaluate)")
    if agent is None and rules is None:
        raise InputError("--agent: give the agent to compare (or --rules to evaluate alerts)")
    if interval <= 0:
        raise InputError("--interval: must be positive")
    from agentdeck.cli.scope import own_agent_ref
    from agentdeck.core.timeparse import parse_duration
    from agentdeck.monitor.alert_rules import load_alert_config
    from agentdeck.monitor.alerts import evaluate_alert_rules
    from agentdeck.monitor.window import check_window

    config = load_alert_config(rules) if rules is not None else None
    store = get_store(db)
    in_project = project_in(store, project)
    if agent is not None:
        own_agent_ref(store, in_project, agent)
        if baseline is not None:
            _own_baseline(store, in_project, baseline)
    if config is not None:
        _own_rules(store, in_project, config)
    if agent is not None and not follow:
        with _progress("window check") as advance:
            wc = check_window(store, agent, env, parse_duration(window), baseline, progress=advance)
        if json_ and config is None:
            print_json(wc.to_dict())
            return
        if not json_:
            from agentdeck.cli.monitor_render import render_window

            render_window(wc)
    if config is None:
        return
    done = 0
    try:
        while True:
            fired = evaluate_alert_rules(store, config, datetime.now(UTC))
            done += 1
            if json_:
                print_json([_alert_json(a) for a in fired])
            for a in fired if not json_ else []:
                console.print(f"ALERT {a.severity} {a.id[:12]} {a.rule} on {a.subject}: {a.message}"
                              + (f" [{a.action}]" if a.action else ""), markup=False)  # fmt: skip
            if not follow or (iterations is not None and done >= iterations):
                return
            _wait(interval, done, len(fired), len(config.rules))
    except KeyboardInterrupt:
        err_console.print("stopped")


def _own_baseline(store: Any, project: str, name: str) -> None:
    from agentdeck.cli.scope import agent_visible

    rec = store.get_baseline(name)
    if rec is not None and not agent_visible(store, project, rec.agent_name):
        raise UnresolvedReferenceError(
            name, "no baseline with that name (see agentdeck baseline list)"
        )


def _own_rules(store: Any, project: str, config: Any) -> None:
    """Refuse rules that watch another project's agent (as a missing agent)."""
    from agentdeck.cli.scope import own_agent_ref
    from agentdeck.core.access.projects import DEFAULT_PROJECT

    for rule in config.rules:
        if rule.agent:
            own_agent_ref(store, project, rule.agent)
            if rule.baseline:
                _own_baseline(store, project, rule.baseline)
        elif project != DEFAULT_PROJECT:
            raise InputError(
                f"--rules: rule {rule.name!r} watches every agent; in project {project!r} "
                "give it an agent"
            )


def _wait(interval: float, done: int, fired: int, rules: int) -> None:
    """Sleep until the next evaluation, showing that --follow is alive: a heartbeat line on
    stderr after each evaluation, and on a terminal a live countdown until the next one."""
    now = datetime.now(UTC)
    beat = (
        f"{now.strftime('%H:%M:%S')} UTC: pass {done}, {rules} rule{'s' * (rules != 1)} "
        f"evaluated, {fired} alert{'s' * (fired != 1)} fired; next in {interval:g}s "
        "(Ctrl-C stops)"
    )
    err_console.print(beat, markup=False, highlight=False, soft_wrap=True)
    if not err_console.is_terminal:
        time.sleep(interval)
        return
    deadline = time.monotonic() + interval
    with err_console.status("") as status:
        while (left := deadline - time.monotonic()) > 0:
            status.update(f"watching: next evaluation in {left:.0f}s")
            time.sleep(min(1.0, left))


# -- alerts ----------------------------------------------------------------------------------


@alerts_app.callback(invoke_without_command=True)
def alerts_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved alerts.")] = False,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from agentdeck.monitor.alerts import ACTIVE

    store = get_store(db)
    found = store.list_alerts(None if all_ else ACTIVE, project=project_in(store, project))
    if json_:
        print_json([_alert_json(a) for a in found])
        return
    if not found:
        console.print("no open alerts" if not all_ else "no alerts", markup=False)
        return
    from agentdeck.cli.narrow import print_rows

    print_rows(
        ("id", "status", "severity", "subject", "opened (UTC)"),
        [
            (
                (a.id[:12], a.status, a.severity, a.subject,
                 a.opened_at.astimezone(UTC).strftime("%m-%d %H:%M")),
                (a.message if a.message.startswith(f"{a.rule}:") else f"{a.rule}: {a.message}")
                + (f" [action: {a.action}]" if a.action else ""),
            )
            for a in found
        ],
    )  # fmt: skip


def _set_status(
    alert_id: str, status: str, actor: str | None, db: str | None, json_: bool,
    project: str | None,
) -> None:  # fmt: skip
    from agentdeck.cli.scope import agent_visible
    from agentdeck.monitor.alerts import set_alert_status

    store = get_store(db)
    found = store.get_alert(alert_id)
    if found is None or not agent_visible(store, project_in(store, project), found.agent_name):
        raise UnresolvedReferenceError(
            alert_id, "no alert with that id (or the prefix is ambiguous)"
        )
    a = set_alert_status(store, found.id, status, actor_name(actor))
    if json_:
        print_json(_alert_json(a))
    else:
        console.print(f"alert {a.id[:12]} ({a.rule} on {a.subject}): {a.status}", markup=False)


AlertIdArg = Annotated[
    str, typer.Argument(help="Alert id, or a unique prefix.", show_default=False)
]


@alerts_app.command(
    "ack", help="Acknowledge an alert (it stays open: it still blocks promotion if critical)."
)
def alerts_ack(
    alert_id: AlertIdArg,
    actor: ActorOpt = None,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.monitor.alerts import ACKNOWLEDGED

    _set_status(alert_id, ACKNOWLEDGED, actor, db, json_, project)


@alerts_app.command("resolve", help="Resolve an alert.")
def alerts_resolve(
    alert_id: AlertIdArg,
    actor: ActorOpt = None,
    json_: JsonOpt = False,
    db: DbOpt = None,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.monitor.alerts import RESOLVED

    _set_status(alert_id, RESOLVED, actor, db, json_, project)
