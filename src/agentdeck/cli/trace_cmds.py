"""Tracing commands: runs, trace, rca."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from agentdeck.cli.common import (
    DbOpt,
    JsonOpt,
    ProjectOpt,
    console,
    err_console,
    escape,
    get_store,
    parse_time_ns,
    print_json,
    project_in,
)
from agentdeck.cli.runs_render import PROVISIONAL_NOTE, clip, runs_table
from agentdeck.cli.trace_render import add_span, trace_title
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, Span, SpanKind, SpanStatus

__all__ = ["PROVISIONAL_NOTE", "RunIdArg", "register"]

RunIdArg = Annotated[
    str, typer.Argument(help="Run (trace) id, or a unique prefix of it.", show_default=False)
]


def register(app: typer.Typer) -> None:
    runs_app = typer.Typer(rich_markup_mode=None)
    runs_app.callback(
        invoke_without_command=True,
        help="List runs, filtered by agent, version, env, status, tool errors, denials, "
        "outcome, time, tool used, session and user, or by a search query (-q).",
    )(runs_cmd)
    from agentdeck.cli.lifecycle_cmds import register_runs

    register_runs(runs_app)
    app.add_typer(runs_app, name="runs")
    app.command("trace", help="Show a run as a tree of steps: tool, args, result, error, latency.")(
        trace_cmd
    )
    app.command("rca", help="Root cause of a failed run: the earliest bad span and how it spread.")(
        rca_cmd
    )


def runs_cmd(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Option(
            "--query", "-q", help="Search query (docs/search.md): tag:vip cost>0.5 refund."
        ),
    ] = None,
    agent: Annotated[str | None, typer.Option("--agent", "-a", help="Agent name.")] = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", help="Agent version number.")
    ] = None,
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="ok, error (the run raised) or unset.")
    ] = None,
    has_errors: Annotated[
        bool, typer.Option("--has-errors", help="Only runs with a failed tool call.")
    ] = False,
    denied: Annotated[
        bool, typer.Option("--denied", help="Only runs with a tool call denied by policy.")
    ] = False,
    outcome: Annotated[
        str | None, typer.Option("--outcome", help="success or failure (when recorded).")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Start time lower bound (ISO 8601 or -2h).")
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Start time upper bound.")] = None,
    tool: Annotated[
        str | None, typer.Option("--tool", help="Only runs that called this tool.")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Only runs of this session (conversation).")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only runs of this end user.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="At most this many, newest first.")
    ] = 50,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="Go on after a page: the cursor the previous page printed."),
    ] = None,
    project: ProjectOpt = None,
    db: DbOpt = None,
    json: JsonOpt = False,
) -> None:
    if ctx.invoked_subcommand is not None:  # runs delete
        return
    from agentdeck.core.trace.query import RunCursor, RunQuery, next_cursor
    from agentdeck.core.trace.search_plan import search_query
    from agentdeck.tracing.analysis.queries import run_json

    try:
        st = SpanStatus(status) if status else None
    except ValueError:
        raise InputError(f"--status: expected ok, error or unset, got {status!r}") from None
    try:
        oc = Outcome(outcome) if outcome else None
    except ValueError:
        raise InputError(f"--outcome: expected success or failure, got {outcome!r}") from None
    q = RunQuery(
        agent_name=agent,
        agent_version=version,
        env=env,
        status=st,
        since_ns=parse_time_ns(since, "--since") if since else None,
        until_ns=parse_time_ns(until, "--until") if until else None,
        tool=tool,
        has_errors=True if has_errors else None,
        denied=True if denied else None,
        outcome=oc,
        session_id=session,
        user_id=user,
        limit=limit,
        after=RunCursor.decode(cursor, "--cursor") if cursor else None,
    )
    q = search_query(q, query, "--query")
    if not 1 <= limit <= 10_000:
        raise InputError(f"--limit: expected 1..10000, got {limit}")
    store = get_store(db)
    found = store.find_runs(replace(q, project=project_in(store, project)))
    after = next_cursor(found, limit)
    if json:
        print_json([run_json(r) for r in found])
        if after is not None:
            err_console.print(f"next page: --cursor {after.encode()}", markup=False, soft_wrap=True)
        return
    if not found:
        console.print("no runs match" if cursor is None else "no more runs", markup=False)
        return
    console.print(runs_table(found))
    if after is not None:
        console.print(f"next page: --cursor {after.encode()}", markup=False, soft_wrap=True)


def trace_cmd(
    run_id: RunIdArg, db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None
) -> None:
    from rich.tree import Tree

    from agentdeck.tracing.analysis.queries import execution_graph, load_trace, run_json
    from agentdeck.tracing.sdk.wire import span_to_dict

    store = get_store(db)
    trace = load_trace(store, run_id, project_in(store, project))
    if json:
        print_json(
            {
                "run": run_json(trace.run) if trace.run else None,
                "spans": [span_to_dict(s) for s in trace.spans],
                "graph": execution_graph(trace),
            }
        )
        return
    tree = Tree(trace_title(trace.trace_id, trace.run))
    for root in trace.roots:
        add_span(tree, root)
    console.print(tree)


def _why(s: Span) -> str:
    """What went wrong in a span, in words: its error, or an eval's verdict and reason."""
    if s.error:
        return s.error
    if s.kind is SpanKind.EVAL and s.failed:
        reason = s.outputs.get("reason") if isinstance(s.outputs, dict) else None
        return "did not pass" + (f": {clip(reason, 160)}" if reason else "")
    return s.status.value


def rca_cmd(
    run_id: RunIdArg, db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None
) -> None:
    from agentdeck.cli.scope import own_run
    from agentdeck.tracing.analysis.rca import rca_to_dict, root_cause

    store = get_store(db)
    rc = root_cause(store, own_run(store, project_in(store, project), run_id))
    if rc is None:
        raise InputError(f"{run_id}: the run has no spans to analyse")
    if json:
        print_json(rca_to_dict(rc))
        return
    f = rc.failure
    if not f.failed and rc.cause is None and not rc.differences:
        console.print(
            f"run {f.trace_id[:12]} [green]succeeded[/]: no step failed, nothing to explain"
        )
    elif f.failed:
        console.print(f"failure: [bold]{escape(f.name)}[/] ({f.kind.value}) {escape(_why(f))}")
    else:  # every step ended ok, yet a span upstream went bad (a finding) or the outcome failed
        console.print(
            f"run {f.trace_id[:12]} ended without a failed step (last: "
            f"[bold]{escape(f.name)}[/], {f.kind.value}), but something went wrong:"
        )
    for b in rc.recovered:
        console.print(
            f"[dim]recovered[/]: {escape(b.span.name)} (span {b.span.span_id}) "
            f"{escape(b.detail)}; a later call of the same tool succeeded"
        )
    if rc.differences:
        console.print(
            "[red]the run's outcome is a failure without a tool error[/]; "
            "it differs from the baseline's runs:"
        )
        for d in rc.differences:
            console.print(f"  - {escape(d)}")
        return
    if rc.cause is None:
        if f.failed:
            console.print("[green]no bad span upstream of it[/]: nothing to blame")
        return
    c = rc.cause
    console.print(
        f"[red]root cause[/]: [bold]{escape(c.span.name)}[/] ({c.span.kind.value}, span {c.span.span_id}): {c.why.value}"
    )
    console.print(f"  {escape(c.detail)}")
    console.print("propagation:")
    for i, p in enumerate(rc.path):
        arrow = "" if i == 0 else "  -> "
        via = f" [dim](via {p.edge.value})[/]" if p.edge else ""
        agent = p.span.attributes.get("agent.name")
        who = f" [magenta]{escape(str(agent))}[/]" if agent else ""
        console.print(f"  {arrow}{p.span.kind.value} {escape(p.span.name)}{who}{via}")
