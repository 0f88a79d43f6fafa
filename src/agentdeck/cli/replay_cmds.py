"""``agentdeck replay``: reproduce a recorded run, or run another version against it."""

from __future__ import annotations

from contextlib import nullcontext
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agentdeck.cli.common import (
    DbOpt,
    JsonOpt,
    ProjectOpt,
    console,
    escape,
    get_store,
    print_json,
    project_in,
    short,
)
from agentdeck.cli.trace_cmds import RunIdArg
from agentdeck.core.errors import InputError

if TYPE_CHECKING:  # replay (the SDK, the agent loader) and the store load inside the command
    from agentdeck.tracing.replay.report import (
        CandidateCall,
        Comparison,
        ReplayResult,
        RowStatus,
        Served,
    )

WithOpt = Annotated[
    str | None,
    typer.Option(
        "--with",
        help="Run this agent version (name@N, name@ENV, ...) against the recorded inputs instead.",
    ),
]
LiveToolsOpt = Annotated[
    bool,
    typer.Option(
        "--live-tools",
        help="With --with: run tool calls that match no recorded call for real (default: misses).",
    ),
]
PathOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--path",
        help="Directory to import the agent's entrypoint from (repeatable; default: current dir).",
    ),
]


def register(app: typer.Typer) -> None:
    app.command(
        "replay",
        help="Re-run a recorded run from its recording: reproduce it, or compare another version.",
    )(replay_cmd)


def replay_cmd(
    run_id: RunIdArg,
    with_ref: WithOpt = None,
    live_tools: LiveToolsOpt = False,
    path: PathOpt = None,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Exit 0 when reproduced (or, with --with, whenever the comparison ran); 1 on divergence."""
    if live_tools and with_ref is None:
        raise InputError("--live-tools applies only with --with (a plain replay runs no tool)")
    from agentdeck.cli.scope import own_agent_ref, own_run
    from agentdeck.tracing.replay.engine import compare, reproduce

    paths = path or [Path.cwd()]
    store = get_store(db)
    in_project = project_in(store, project)
    run_id = own_run(store, in_project, run_id)
    if with_ref is not None:
        own_agent_ref(store, in_project, with_ref)
    if with_ref is not None:
        with nullcontext() if json else console.status("replaying…"):
            comparison = compare(store, run_id, with_ref, live_tools=live_tools, paths=paths)
        if json:
            print_json(comparison.to_dict())
        else:
            _render_comparison(comparison)
        return
    with nullcontext() if json else console.status("replaying…"):
        result = reproduce(store, run_id, paths=paths)
    if json:
        print_json(result.to_dict())
    else:
        _render_result(result)
    if not result.reproduced:
        raise typer.Exit(1)


def _header(source: str, replay_id: str | None, agent: str) -> str:
    target = f" -> replay run {replay_id}" if replay_id else ""
    return f"replay of run [bold]{source}[/] ({escape(agent)}){target}"


def _render_result(r: ReplayResult) -> None:
    from agentdeck.tracing.replay.report import compact

    console.print(
        _header(r.source_trace_id, r.replay_trace_id, f"{r.agent} {short(r.agent_digest)}")
    )
    d = r.divergence
    if d is None:
        console.print(
            f"[green]✓ reproduced[/]: {r.served} of {r.steps} steps served from the recording, "
            "same status and output"
        )
    else:
        console.print(
            f"[red]✗ diverged at step {d.step}[/] of {r.steps} ({d.kind.value}); "
            f"steps matched before it: {r.served}"
        )
        console.print(f"  expected: {escape(d.expected_call)}")
        console.print(f"  actual:   {escape(d.actual_call)}")
        where = f"at {d.path}: " if d.path else ""
        console.print(
            f"  {escape(where)}expected [green]{escape(compact(d.expected, quote=True))}[/], "
            f"actual [red]{escape(compact(d.actual, quote=True))}[/]"
        )
    if r.report_id:
        console.print(f"[dim]report {r.report_id}[/]")


@cache
def _styles() -> tuple[dict[RowStatus, tuple[str, str]], dict[Served, str]]:
    """Row marks and served notes, built on first render (not at import: replay is heavy)."""
    from agentdeck.tracing.replay.report import RowStatus, Served

    rows = {
        RowStatus.MATCH: ("=", "green"),
        RowStatus.DIFFER: ("≠", "yellow"),
        RowStatus.RECORDED_ONLY: ("-", "red"),
        RowStatus.CANDIDATE_ONLY: ("+", "red"),
    }
    served = {
        Served.RECORDING: "",
        Served.RECORDED_ERROR: " [dim](recorded error)[/]",
        Served.MISS: " [red](miss)[/]",
        Served.LIVE: " [blue](live)[/]",
    }
    return rows, served


def _candidate_cell(c: CandidateCall | None, style: str) -> str:
    if c is None:
        return ""
    return f"[{style}]{escape(c.action.label(60))}[/]{_styles()[1][c.served]}"


def _render_comparison(c: Comparison) -> None:
    from rich.table import Table

    from agentdeck.tracing.replay.report import Served, compact

    console.print(_header(c.source_trace_id, c.replay_trace_id, f"with {c.candidate_agent}"))
    t = Table(title=f"actions: {c.recorded_agent} (recorded) vs {c.candidate_agent} (candidate)")
    t.add_column("#", justify="right")
    t.add_column(f"recorded {c.recorded_agent}")
    t.add_column("", justify="center")
    t.add_column(f"candidate {c.candidate_agent}")
    for i, row in enumerate(c.rows, 1):
        mark, style = _styles()[0][row.status]
        rec = f"[{style}]{escape(row.recorded.label(60))}[/]" if row.recorded else ""
        t.add_row(str(i), rec, f"[{style}]{mark}[/]", _candidate_cell(row.candidate, style))
    console.print(t)
    verdict = "[green]same actions[/]" if c.agreed else "[yellow]different actions[/]"
    console.print(
        f"{verdict}  similarity {c.similarity:.2f}  "
        f"served {c.count(Served.RECORDING) + c.count(Served.RECORDED_ERROR)}  "
        f"misses {c.count(Served.MISS)}  live {c.count(Served.LIVE)}"
    )
    console.print(f"  recorded output:  {escape(compact(c.recorded_output))}")
    console.print(f"  candidate output: {escape(compact(c.candidate_output))}")
    if c.recorded_error or c.candidate_error:
        console.print(
            f"  errors: recorded {escape(c.recorded_error or '-')}, "
            f"candidate {escape(c.candidate_error or '-')}"
        )
    if c.report_id:
        console.print(f"[dim]report {c.report_id}[/]")
