"""Tracing commands: runs, trace, rca."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import orjson
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
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind, SpanStatus

if TYPE_CHECKING:  # the store and the tracing services load inside the commands
    from rich.tree import Tree

    from agentdeck.tracing.analysis.queries import SpanNode

PROVISIONAL_NOTE = "derived from child spans; the root span has not arrived"
"""Why a run is provisional, shown next to the marker (the UI says the same)."""

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


def _outcome_text(r: Run) -> str:
    if r.outcome is None:
        return "-"
    style = "green" if r.outcome is Outcome.SUCCESS else "red"
    score = f" {r.outcome_score:g}" if r.outcome_score is not None else ""
    return f"[{style}]{r.outcome.value}{score}[/]"


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
    console.print(_runs_table(found))
    if after is not None:
        console.print(f"next page: --cursor {after.encode()}", markup=False, soft_wrap=True)


def _runs_table(found: list[Run]) -> Any:
    """The runs as a table that fits 80 columns: a column every row shares (one agent
    version, one env) goes to the title, the input takes what width is left, one line each."""
    from datetime import UTC, datetime

    from rich import box
    from rich.table import Table
    from rich.text import Text

    agents = {f"{r.agent_name or '-'}@{r.agent_version or '?'}" for r in found}
    envs = {r.env or "-" for r in found}
    title = f"runs ({len(found)})"
    if len(agents) == 1 and found:
        title += f" of {next(iter(agents))}"
    if len(envs) == 1 and found:
        title += f" in {next(iter(envs))}"
    t = Table(
        title=escape(title), box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        collapse_padding=True, title_justify="left",
    )  # fmt: skip
    if any(r.provisional for r in found):
        t.caption = f"provisional: {PROVISIONAL_NOTE}"
    days = {datetime.fromtimestamp(r.start_ns / 1e9, UTC).date() for r in found}
    started = "%H:%M" if len(days) == 1 else "%m-%d %H:%M"
    if len(days) == 1:
        t.title = f"{t.title}, {next(iter(days)).isoformat()} (UTC)"
    from rich.markup import render

    def cells_of(r: Run) -> dict[str, str]:
        ms = f"{(r.end_ns - r.start_ns) / 1e6:.0f}" if r.end_ns else "-"
        style = {"error": "red", "ok": "green"}.get(r.status.value, "dim")
        return {
            "run": r.trace_id[:12],
            "agent": escape(f"{r.agent_name or '-'}@{r.agent_version or '?'}"),
            "env": escape(r.env or "-"),
            "status": f"[{style}]{r.status.value}[/]"
            + (" [yellow]provisional[/]" if r.provisional else ""),
            "err": f"[red]{r.tool_errors}[/]" if r.tool_errors else "0",
            "deny": f"[yellow]{r.denied_calls}[/]" if r.denied_calls else "0",
            "outcome": _outcome_text(r),
            "started": datetime.fromtimestamp(r.start_ns / 1e9, UTC).strftime(started),
            "ms": ms,
            "cost": _cost(r),
        }

    rows = [cells_of(r) for r in found]
    # Columns by priority: one that every row leaves empty is left out, and the others are
    # added while the input keeps at least INPUT_MIN columns of the console's width.
    wanted = [("run", True), ("status", True), ("started", True),
              ("agent", len(agents) > 1), ("err", True), ("env", len(envs) > 1),
              ("outcome", any(r.outcome is not None for r in found)),
              ("deny", any(r.denied_calls for r in found)),
              ("cost", any(r.cost_usd or r.unpriced_calls for r in found)), ("ms", True)]  # fmt: skip
    room = max(console.width, 40) - INPUT_MIN
    chosen: set[str] = set()
    for name, keep in wanted:
        width = max([len(name), *(len(render(row[name]).plain) for row in rows)]) + 2
        if keep and width <= room:
            chosen.add(name)
            room -= width
    order = ("run", "agent", "env", "status", "err", "deny", "outcome", "started", "ms", "cost")
    shown = [name for name in order if name in chosen]
    for name in shown:
        t.add_column(
            name,
            no_wrap=True,
            justify="right" if name in ("err", "deny", "ms", "cost") else "left",
        )
    # the one column that gives way, its text kept to one line
    t.add_column("input", min_width=10)
    for r, cells in zip(found, rows, strict=True):
        # names and inputs come from producers: escaped; the input on one line
        text = Text(" ".join(_clip(r.input, 400).split()), no_wrap=True, overflow="ellipsis")
        t.add_row(*(cells[name] for name in shown), text)
    return t


INPUT_MIN = 16  # the columns the runs table keeps for the input


def _cost(r: Run) -> str:
    from agentdeck.core.cost.format import cost_text  # (not at start-up: core.cost reads YAML)

    return cost_text(r.cost_usd, r.unpriced_calls)


def _clip(value: Any, n: int = 80) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= n else text[: n - 1] + "…"


_KIND_STYLE = {
    SpanKind.AGENT: "bold magenta",
    SpanKind.LLM: "cyan",
    SpanKind.TOOL: "yellow",
    SpanKind.POLICY: "blue",
    SpanKind.HANDOFF: "magenta",
}


def _label(s: Span) -> str:
    ms = s.duration_ns / 1e6
    style = _KIND_STYLE.get(s.kind, "white")
    if s.status is SpanStatus.ERROR:
        status = "[red]✗ denied[/]" if s.denied else "[red]✗ error[/]"
    else:
        status = "[red]✗ failed[/]" if s.failed else "[green]✓[/]"
    head = f"[{style}]{s.kind.value}[/] [bold]{escape(s.name)}[/] {status} [dim]{ms:.1f} ms[/]"
    if s.attributes.get("tool.intercepted"):
        head += " [dim](served by replay)[/]"
    lines = [head]
    if s.kind is SpanKind.TOOL:
        args = s.inputs.get("args") if isinstance(s.inputs, dict) else s.inputs
        lines.append(f"  args: {escape(_clip(args, 120))}")
        if s.attributes.get("tool.args_valid") is False:
            lines.append(
                f"  [red]invalid args: {escape(_clip(s.attributes.get('tool.args_errors'), 120))}[/]"
            )
        if s.status is not SpanStatus.ERROR:
            result = s.outputs.get("result") if isinstance(s.outputs, dict) else s.outputs
            lines.append(f"  result: {escape(_clip(result, 120))}")
    elif s.kind is SpanKind.LLM:
        msgs = s.inputs.get("messages", []) if isinstance(s.inputs, dict) else []
        model = s.attributes.get("llm.response_model") or s.attributes.get("llm.model")
        lines.append(f"  model: {escape(str(model or '-'))}, {len(msgs)} messages in context")
        msg = s.outputs.get("message") if isinstance(s.outputs, dict) else None
        if isinstance(msg, dict):
            calls = msg.get("tool_calls") or []
            if calls:
                lines.append(
                    "  calls: "
                    + escape(
                        ", ".join(
                            f"{c.get('name')}({_clip(c.get('arguments'), 60)})" for c in calls
                        )
                    )
                )
            if msg.get("content"):
                lines.append(f"  says: {escape(_clip(msg.get('content'), 120))}")
        if s.usage:
            lines.append(f"  tokens: {s.usage.input_tokens} in / {s.usage.output_tokens} out")
    elif s.kind is SpanKind.POLICY and isinstance(s.outputs, dict):
        lines.append(
            f"  effect: {s.outputs.get('effect')} rules: {escape(_clip(s.outputs.get('rules'), 80))}"
        )
    elif s.kind is SpanKind.EVAL:
        a = s.attributes
        passed = a.get("eval.passed")
        verdict = "passed" if passed is True else "failed" if passed is False else "-"
        lines.append(f"  score: {escape(str(a.get('eval.score', '-')))} {verdict}")
        reason = s.outputs.get("reason") if isinstance(s.outputs, dict) else None
        if reason:
            lines.append(f"  reason: {escape(_clip(reason, 120))}")
    elif s.kind is SpanKind.AGENT:
        a = s.attributes
        if a.get("agent.name"):
            version = a.get("agent.version")
            lines.append(f"  {escape(str(a.get('agent.name')))}@{escape(str(version or '?'))}")
    if s.error:
        lines.append(f"  [red]error: {escape(_clip(s.error, 160))}[/]")
    return "\n".join(lines)


def _add(tree: Tree, node: SpanNode) -> None:
    branch = tree.add(_label(node.span))
    for child in node.children:
        _add(branch, child)


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
    tree = Tree(_trace_title(trace.trace_id, trace.run))
    for root in trace.roots:
        _add(tree, root)
    console.print(tree)


def _trace_title(trace_id: str, r: Run | None) -> str:
    """The tree's head: the run's agent, env and status, and what kind of run it is (a replay,
    or provisional: its fields are guesses from child spans until the root arrives)."""
    title = f"run {trace_id}"
    if r is None:
        return title
    agent = f"{escape(r.agent_name or '-')}@{r.agent_version or '?'}"
    title += f"  {agent} in {escape(r.env or '-')}  \\[{r.status.value}]"
    title += f"  tool errors: {r.tool_errors}  denied: {r.denied_calls}"
    if r.total_tokens or r.unpriced_calls:
        title += f"  tokens: {r.total_tokens}  cost: {_cost(r)}"
    if r.outcome is not None:
        title += f"  outcome: {_outcome_text(r)}"
        if r.outcome_reason:
            title += f" ({escape(_clip(r.outcome_reason, 80))})"
    if r.session_id:
        title += f"  session: {escape(r.session_id)}"
    if r.user_id:
        title += f"  user: {escape(r.user_id)}"
    replay_of = r.attributes.get("replay.of")
    if replay_of:
        mode = r.attributes.get("replay.mode") or "replay"
        title += f"  ({escape(str(mode))} replay of {escape(str(replay_of))})"
    if r.provisional:
        title += f"  [yellow]provisional[/] [dim]({PROVISIONAL_NOTE})[/]"
    return title


def _why(s: Span) -> str:
    """What went wrong in a span, in words: its error, or an eval's verdict and reason."""
    if s.error:
        return s.error
    if s.kind is SpanKind.EVAL and s.failed:
        reason = s.outputs.get("reason") if isinstance(s.outputs, dict) else None
        return "did not pass" + (f": {_clip(reason, 160)}" if reason else "")
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
