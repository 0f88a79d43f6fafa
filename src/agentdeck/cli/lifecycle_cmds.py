"""Data lifecycle commands: ``runs delete``, ``gc`` (retention) and ``export``."""

from __future__ import annotations

import time
from pathlib import Path
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
    get_store,
    print_json,
    project_in,
)
from agentdeck.core.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

QueryOpt = Annotated[
    str | None,
    typer.Option("--query", "-q", help="Search query (docs/search.md): tag:vip user:u-42."),
]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Count what would be deleted; change nothing.")
]


def register(app: typer.Typer) -> None:
    app.command("gc", help="Delete runs older than each environment's retention.days.")(gc_cmd)
    app.command("export", help="Export runs and their spans as JSONL or Parquet, filtered by -q.")(
        export_cmd
    )


def register_runs(runs_app: typer.Typer) -> None:
    runs_app.command(
        "delete", help="Delete runs by id, session, user or query (audited, content not kept)."
    )(delete_cmd)


def _progress(what: str, quiet: bool) -> Any:
    """A Rich progress bar on stderr (nothing with --json)."""
    from contextlib import nullcontext

    if quiet:
        return nullcontext(None)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    return Progress(SpinnerColumn(), TextColumn(f"{what} {{task.description}}"),
                    TimeElapsedColumn(), console=err_console.rich(), transient=True)  # fmt: skip


def _updater(bar: Any, unit: str) -> Callable[..., None] | None:
    if bar is None:
        return None
    task = bar.add_task("", total=None)

    def update(n: int, m: int | None = None) -> None:
        text = f"{n:,} {unit}" + (f", {m:,} spans" if m is not None else "")
        bar.update(task, description=text)

    return update


def delete_cmd(
    run: Annotated[
        list[str] | None, typer.Option("--run", "-r", help="Run id or unique prefix (repeatable).")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Every run of this session.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="Every run of this end user.")] = None,
    query: QueryOpt = None,
    dry_run: DryRunOpt = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    db: DbOpt = None,
    actor: ActorOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.tracing.lifecycle.erase import delete_runs, selection

    store = get_store(db)
    sel = selection(store, run_ids=run or (), session=session, user=user, query=query,
                    source="--query", project=project_in(store, project))  # fmt: skip
    if not dry_run and not yes and not json:
        with _progress("counting", False) as bar:
            n = delete_runs(store, sel, "", dry_run=True, progress=_updater(bar, "runs")).runs
        if n == 0:
            console.print("no run matches: nothing deleted")
            return
        typer.confirm(f"delete {n:,} runs and everything stored of them?", abort=True)
    with _progress("deleting" if not dry_run else "counting", json) as bar:
        report = delete_runs(store, sel, actor_name(actor), dry_run=dry_run,
                             progress=_updater(bar, "runs"))  # fmt: skip
    if json:
        print_json(report.to_dict())
        return
    verb = "would delete" if dry_run else "deleted"
    rows = sum(report.rows.values())
    console.print(f"{verb} {report.runs:,} runs" + (f" ({rows:,} rows, audited)" if rows else ""))


def gc_cmd(
    dry_run: DryRunOpt = False,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.tracing.lifecycle.erase import expire_runs

    store = get_store(db)
    with _progress("expiring", json) as bar:
        reports = expire_runs(store, time.time_ns(), actor_name(actor) or "gc", dry_run=dry_run,
                              progress=_updater(bar, "runs"))  # fmt: skip
    if json:
        print_json([r.to_dict() for r in reports])
        return
    if not reports:
        console.print("no environment sets retention.days: nothing to do")
        return
    verb = "would delete" if dry_run else "deleted"
    for r in reports:
        console.print(f"{r.what}: {verb} {r.runs:,} runs")


def export_cmd(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="File (jsonl; - for stdout) or directory (parquet)."),
    ],
    format_: Annotated[str, typer.Option("--format", "-f", help="jsonl or parquet.")] = "jsonl",
    query: QueryOpt = None,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.core.trace.query import RunQuery
    from agentdeck.core.trace.search_plan import search_query
    from agentdeck.tracing.lifecycle.export import FORMATS, export_jsonl, export_parquet

    if format_ not in FORMATS:
        raise InputError(f"--format: expected {' or '.join(FORMATS)}, got {format_!r}")
    store = get_store(db)
    q = search_query(RunQuery(project=project_in(store, project)), query, "--query")
    to_stdout = str(output) == "-"
    with _progress("exporting", json or to_stdout) as bar:
        progress = _updater(bar, "runs")
        if format_ == "parquet":
            report = export_parquet(store, q, output, progress)
        elif to_stdout:
            import sys

            report = export_jsonl(store, q, sys.stdout.buffer, "-", progress)
        else:
            with _open(output) as out:
                report = export_jsonl(store, q, out, str(output), progress)
    if json:
        print_json(report.to_dict())
    elif not to_stdout:
        console.print(f"exported {report.runs:,} runs and {report.spans:,} spans to {output}")


def _open(path: Path) -> Any:
    try:
        return path.open("wb")
    except OSError as exc:
        raise InputError(f"--output {path}: {exc.strerror or exc}") from None
