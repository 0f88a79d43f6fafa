"""Eval commands: ``agentdeck eval`` (run a suite against a version) and ``agentdeck scores``
(online evaluator scores of recent runs)."""

from __future__ import annotations

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
    escape,
    get_store,
    parse_time_ns,
    print_json,
    project_in,
    short,
)
from agentdeck.core.errors import InputError

if TYPE_CHECKING:  # the eval models, the runner and the store load inside the commands
    from agentdeck.core.evals.result import CaseChange, EvalResult
    from agentdeck.core.evals.suite import Suite
    from agentdeck.store import SqlStore


def register(app: typer.Typer) -> None:
    app.command(
        "eval",
        help="Run an eval suite against an agent version; store the result bound to its digest.",
    )(eval_cmd)
    app.command("scores", help="Online evaluator scores of an agent's recent runs, per evaluator.")(
        scores_cmd
    )


def _start_sdk(store: SqlStore) -> None:
    from agentdeck.registry.resolver import CachingResolver
    from agentdeck.registry.service import Registry
    from agentdeck.sdk_init import init

    init(sink=store, resolver=CachingResolver(Registry(store)))


def _run(
    store: SqlStore,
    suite: Suite,
    ref: str,
    actor: str,
    workers: int,
    paths: list[Path],
    quiet: bool,
) -> EvalResult:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from agentdeck.evals.runner import EvalService

    svc = EvalService(store)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console.rich(), transient=True, disable=quiet,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{suite.name} on {ref}", total=len(suite.cases))
        result, _ = svc.run(
            suite, ref, actor=actor, workers=workers, paths=paths,
            on_case=lambda _case: bar.advance(task),
        )  # fmt: skip
    return result


def _is_suite_name(text: str) -> bool:
    """A stored suite's name (``prod-regressions``), not a path (``evals/x.yaml``)."""
    import re

    return re.fullmatch(r"[a-z][a-z0-9_.-]{0,99}", text) is not None and not text.endswith(
        (".yaml", ".yml", ".json")
    )


def _stored_suite(store: SqlStore, name: str, project: str | None) -> Suite:
    """A suite stored in the database (``agentdeck suite add-run --suite NAME``), of the
    project ``--project`` names (another project's is not found)."""
    from agentdeck.evals.datasets.add_run import stored_suite

    return stored_suite(store, name, project_in(store, project))


def _print_result(result: EvalResult) -> None:
    """One line a case (80 columns), why it failed beneath it."""
    from agentdeck.cli.narrow import print_rows

    print_rows(
        ("case", "result", "steps", "ms"),
        [
            (
                (escape(c.case_id), "[green]pass[/]" if c.passed else "[red]FAIL[/]",
                 str(c.steps), f"{c.duration_ms:.0f}"),
                "; ".join(c.reasons) or None,
            )
            for c in result.cases
        ],
        title=f"{result.suite_name} on {result.agent_ref}",
    )  # fmt: skip


def _print_compare(before: EvalResult, after: EvalResult, changes: list[CaseChange]) -> None:
    """One line a case with both results and the change, the reasons beneath it."""
    from agentdeck.cli.narrow import print_rows

    colour = {"broken": "red", "fixed": "green", "added": "cyan", "removed": "yellow"}

    def cell(c: Any) -> str:
        return "-" if c is None else ("pass" if c.passed else "FAIL") + f" ({c.steps})"

    rows = []
    for ch in changes:
        kind = ch.kind
        style = colour.get(kind, "dim" if not ch.changed else "white")
        detail = None
        if ch.after is not None and ch.after.reasons:
            detail = "; ".join(ch.after.reasons)
        elif ch.before is not None and ch.before.reasons and kind == "fixed":
            detail = "was: " + "; ".join(ch.before.reasons)
        cells = (escape(ch.case_id), cell(ch.before), cell(ch.after), f"[{style}]{kind}[/]")
        rows.append((cells, detail))
    print_rows(
        ("case", escape(before.agent_ref), escape(after.agent_ref), "change"),
        rows,
        title=f"{before.agent_ref} -> {after.agent_ref}: result (steps) per case",
    )


def eval_cmd(
    suite_file: Annotated[
        Path,
        typer.Argument(
            metavar="SUITE",
            help="The eval suite file (YAML), or a stored suite's name.",
            show_default=False,
        ),
    ],
    agent: Annotated[
        str,
        typer.Option(
            "--agent",
            help="The agent version to evaluate (name@N, name@sha256:..., name@ENV).",
            show_default=False,
        ),
    ],
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Another version: show the changes case by case (its stored result of this suite, or a fresh run).",
        ),
    ] = None,
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Cases run in parallel.")
    ] = 4,
    min_pass_rate: Annotated[
        float | None,
        typer.Option(
            "--min-pass-rate", min=0.0, max=1.0, help="Override the suite's minimum pass rate."
        ),
    ] = None,
    path: Annotated[
        list[Path] | None,
        typer.Option(
            "--path",
            help="Directory to import the agent's entrypoint from (repeatable; default: the current directory).",
        ),
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.core.evals.result import check_thresholds, compare_results, summarize
    from agentdeck.core.evals.suite import Thresholds
    from agentdeck.evals.runner import EvalService, load_suite
    from agentdeck.records.serialize import cost_change_json
    from agentdeck.tracing.sdk import api as sdk

    named = not suite_file.exists() and _is_suite_name(str(suite_file))
    store = get_store(db) if named else None
    suite = _stored_suite(store, str(suite_file), project) if store else load_suite(suite_file)
    store = store or get_store(db)
    who = actor_name(actor)
    paths = list(path) if path else [Path.cwd()]
    thresholds = suite.thresholds
    if min_pass_rate is not None:
        thresholds = Thresholds(min_pass_rate, thresholds.must_pass)
    _start_sdk(store)
    try:
        result = _run(store, suite, agent, who, workers, paths, json)
        before = None
        if compare is not None:
            before = EvalService(store).latest(compare, suite)
            if before is None:
                before = _run(store, suite, compare, who, workers, paths, json)
    finally:
        sdk.shutdown()
    check = check_thresholds(result, thresholds)
    changes = compare_results(before, result) if before is not None else None
    if json:
        out: dict[str, Any] = {
            **result.to_dict(),
            "thresholds": {
                "min_pass_rate": thresholds.min_pass_rate,
                "must_pass": list(thresholds.must_pass),
            },
            "thresholds_met": check.met,
            "threshold_misses": list(check.reasons),
        }
        if changes is not None and before is not None:
            out["compare"] = {
                "baseline": before.to_dict(),
                "changes": [c.to_dict() for c in changes],
                "summary": summarize(changes),
                "cost": cost_change_json(_cost_change(store, before, result)),
            }
        print_json(out)
    else:
        _print_result(result)
        console.print(
            f"{escape(check.summary)} on {result.agent_ref} ({short(result.agent_digest)}); "
            f"result {result.id[:12]} stored"
        )
        if changes is not None and before is not None:
            _print_compare(before, result, changes)
            counts = summarize(changes)
            console.print(", ".join(f"{n} {k}" for k, n in counts.items()))
            console.print(escape(_cost_change(store, before, result).text()))
        if check.met:
            console.print(
                f"[green]thresholds met[/] (min pass rate {thresholds.min_pass_rate:.0%})"
            )
        else:
            console.print(f"[red]thresholds missed[/]: {escape('; '.join(check.reasons))}")
    if not check.met:
        raise typer.Exit(1)


def _cost_change(store: Any, before: Any, after: Any) -> Any:
    """The cost per run of two eval results' runs (their cases' traces)."""
    from agentdeck.core.cost import CostChange
    from agentdeck.tracing.analysis.cost import eval_cost

    return CostChange(
        eval_cost(store, before.agent_ref, [c.trace_id for c in before.cases]),
        eval_cost(store, after.agent_ref, [c.trace_id for c in after.cases]),
    )


def scores_cmd(
    name: Annotated[str, typer.Argument(help="Agent name.", show_default=False)],
    env: Annotated[
        str | None, typer.Option("--env", help="Only runs in this environment.")
    ] = "production",
    version: Annotated[
        int | None, typer.Option("--version", help="Only runs of this version.")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs since (ISO 8601, now, -15m, -2h, -3d).")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=100_000, help="At most this many recent runs.")
    ] = 1000,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_agent
    from agentdeck.core.trace.query import RunQuery
    from agentdeck.evals.online import score_summary

    store = get_store(db)
    in_project = project_in(store, project)
    own_agent(store, in_project, name)
    since_ns = None if since is None else parse_time_ns(since, "--since")
    if limit < 1:
        raise InputError("--limit: must be at least 1")
    q = RunQuery(
        project=in_project,
        agent_name=name,
        agent_version=version,
        env=env,
        since_ns=since_ns,
        limit=limit,
    )
    stats = score_summary(store, q)
    if json:
        print_json(
            [
                {"evaluator": s.evaluator, "runs": s.runs, "mean": s.mean, "pass_rate": s.pass_rate}
                for s in stats
            ]
        )
        return
    if not stats:
        console.print(f"no online scores for {escape(name)}" + (f" in {env}" if env else ""))
        return
    from rich.table import Table

    where = f"{name}" + (f"@{version}" if version else "") + (f" in {env}" if env else "")
    t = Table(title=f"online scores: {escape(where)}", title_justify="left")
    for col in ("evaluator", "runs scored", "mean score", "pass rate"):
        t.add_column(col, justify="left" if col == "evaluator" else "right")
    for s in stats:
        style = "red" if s.pass_rate < 0.9 else "green"
        t.add_row(
            escape(s.evaluator), str(s.runs), f"{s.mean:.2f}", f"[{style}]{s.pass_rate:.0%}[/]"
        )
    console.print(t)
