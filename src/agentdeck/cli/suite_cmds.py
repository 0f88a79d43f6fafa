"""``agentdeck suite``: eval cases from production runs (``add-run``), stored suites."""

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
    get_store,
    print_json,
    project_in,
)
from agentdeck.core.errors import InputError

app = typer.Typer(no_args_is_help=True, add_completion=False, rich_markup_mode=None)


def _is_file(target: str) -> bool:
    return target.endswith((".yaml", ".yml")) or "/" in target or Path(target).exists()


@app.command(
    "add-run",
    help="Turn a run into an eval case: its input, its recorded tool responses as fixtures, "
    "and what was expected (--expect, or the recorded behaviour of a successful run). "
    "--suite FILE.yaml appends to a suite file (created if missing); --suite NAME adds to "
    "a suite stored in the database (agentdeck eval NAME runs it).",
)
def add_run_cmd(
    run_id: Annotated[
        str, typer.Argument(help="Run (trace) id, or a unique prefix of it.", show_default=False)
    ],
    suite: Annotated[
        str, typer.Option("--suite", help="A suite file (.yaml) or a stored suite's name.")
    ],
    expect: Annotated[
        str | None,
        typer.Option(
            "--expect",
            help="What was expected, in the suite's expect syntax (YAML or JSON; @FILE reads "
            "a file), e.g. '{not_called: [issue_refund], calls: [cancel_order]}'.",
        ),
    ] = None,
    case_id: Annotated[
        str | None, typer.Option("--case-id", help="The case's id (default: run-<id prefix>).")
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option(
            "--path",
            help="A new suite file's paths: where the agent's package is, relative to the file.",
        ),
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    from agentdeck.evals.datasets.add_run import add_to_file, add_to_stored, parse_expect
    from agentdeck.records.serialize import dataset_case_json

    wanted = parse_expect(expect, "--")
    store = get_store(db)
    in_project = project_in(store, project)
    if _is_file(suite):
        added = add_to_file(
            store, run_id, Path(suite), expect=wanted, case_id=case_id, paths=path or (),
            project=in_project,
        )  # fmt: skip
    else:
        added = add_to_stored(
            store, run_id, suite, by=actor_name(actor), expect=wanted, case_id=case_id,
            project=in_project,
        )  # fmt: skip
    if json:
        print_json(dataset_case_json(added.suite, added.where, added.trace_id, added.case))
        return
    where = "stored in the database" if added.where == "stored" else f"in {added.where}"
    console.print(
        f"case {added.case['id']} added to suite {added.suite} ({where}) from run "
        f"{added.trace_id}: {len(added.case['fixtures'])} fixtures",
        markup=False,
    )
    console.print(f"run it: agentdeck eval {suite} --agent REF", markup=False)


@app.command("list", help="Suites stored in the database, with their number of cases.")
def list_cmd(db: DbOpt = None, project: ProjectOpt = None, json: JsonOpt = False) -> None:
    from agentdeck.evals.datasets.add_run import suite_names

    store = get_store(db)
    names = suite_names(store, project_in(store, project))
    if json:
        print_json([{"suite": n, "cases": c} for n, c in names])
        return
    if not names:
        console.print("no stored suites; add one: agentdeck suite add-run RUN_ID --suite NAME")
        return
    for n, c in names:
        console.print(f"{n}  {c} case(s)", markup=False)


@app.command("export", help="A stored suite as a suite file (YAML on stdout, or --out FILE).")
def export_cmd(
    name: Annotated[str, typer.Argument(help="The stored suite's name.", show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
    db: DbOpt = None,
    project: ProjectOpt = None,
    json: JsonOpt = False,
) -> None:
    import yaml

    from agentdeck.evals.datasets.add_run import suite_document

    store = get_store(db)
    doc = suite_document(store, name, project_in(store, project))
    if json:
        print_json(doc)
        return
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
    if out is None:
        typer.echo(text, nl=False)
    else:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)  # evals/x.yaml in a new checkout
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--out: {out}: {exc.strerror or exc}") from None
        console.print(f"wrote {out} ({len(doc['cases'])} cases)", markup=False)
