"""``agentdeck queue``: annotation queues (create, list, next, label, skip)."""

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

QueueArg = Annotated[str, typer.Argument(help="Queue name or id.", show_default=False)]


@app.command(
    "create",
    help="Create a review queue of the runs a filter picks (newest first), optionally a seeded "
    "sample of them, labelled with a label schema file.",
)
def create_cmd(
    name: Annotated[str, typer.Argument(help="The queue's name.", show_default=False)],
    schema: Annotated[Path, typer.Option("--schema", help="The label schema (YAML).")],
    agent: Annotated[str | None, typer.Option("--agent", help="Only runs of this agent.")] = None,
    version: Annotated[int | None, typer.Option("--version", help="Only this version.")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Only runs in this env.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="ok, error or unset.")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="success or failure.")] = None,
    tool: Annotated[str | None, typer.Option("--tool", help="Only runs calling this tool.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="ISO 8601, -2h, -3d.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="ISO 8601, -2h, -3d.")] = None,
    sample: Annotated[
        float | None, typer.Option("--sample", help="Keep this fraction (0..1] of the runs.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="The sample's seed.")] = 0,
    limit: Annotated[int, typer.Option("--limit", help="At most this many runs.")] = 500,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.core.annotations.schema import parse_label_schema
    from agentdeck.evals.review.queues import create_queue
    from agentdeck.records.serialize import queue_json
    from agentdeck.registry.specfile import load_yaml

    label_schema = parse_label_schema(load_yaml(schema), str(schema))
    filters = {
        "agent": agent, "version": str(version) if version else None, "env": env,
        "status": status, "outcome": outcome, "tool": tool, "since": since, "until": until,
    }  # fmt: skip
    store = get_store(db)
    q = create_queue(
        store, name, label_schema,
        filters={k: v for k, v in filters.items() if v}, by=actor_name(actor),
        sample=sample, seed=seed, limit=limit, project=project_in(store, project),
    )  # fmt: skip
    if json:
        print_json(queue_json(q, schema=True))
        return
    console.print(f"queue {q.name} ({q.queue_id[:12]}): {q.total} run(s) to review", markup=False)
    console.print(f"next: agentdeck queue next {q.name}", markup=False)


@app.command("list", help="Review queues, newest first, with how many runs are left.")
def list_cmd(db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None) -> None:
    from agentdeck.evals.review.queues import queue_project
    from agentdeck.records.serialize import queue_json

    store = get_store(db)
    in_project = project_in(store, project)
    queues = [q for q in store.list_queues() if queue_project(q) == in_project]
    if json:
        print_json([queue_json(q) for q in queues])
        return
    if not queues:
        console.print("no queues; create one: agentdeck queue create NAME --schema labels.yaml")
        return
    from rich.table import Table

    t = Table(title="review queues", title_justify="left")
    for col in ("name", "id", "pending", "labelled", "skipped"):
        t.add_column(col, justify="left" if col in ("name", "id") else "right")
    for q in queues:
        t.add_row(q.name, q.queue_id[:12], *(str(q.counts.get(k, 0)) for k in
                  ("pending", "labelled", "skipped")))  # fmt: skip
    console.print(t)


@app.command("next", help="The next run to review in a queue, with the labels to choose from.")
def next_cmd(
    queue: QueueArg, db: DbOpt = None, json: JsonOpt = False, project: ProjectOpt = None
) -> None:
    from agentdeck.evals.review.queues import get_queue, next_item
    from agentdeck.records.serialize import queue_item_json, run_json

    store = get_store(db)
    q = get_queue(store, queue, project_in(store, project))
    item = next_item(store, q)
    run = store.get_run(item.trace_id) if item else None
    labels = [
        {"key": i, "name": lb.name, "pass": lb.passed} for i, lb in enumerate(q.schema.labels, 1)
    ]
    if json:
        print_json(
            {"queue": q.name, "item": queue_item_json(item) if item else None,
             "run": run_json(run) if run else None, "labels": labels,
             "scores": [s.name for s in q.schema.scores]}
        )  # fmt: skip
        return
    if item is None:
        console.print(f"queue {q.name}: nothing left to review", markup=False)
        return
    console.print(f"{q.name} #{item.position}: run {item.trace_id}", markup=False)
    if run is not None:
        agent = f"{run.agent_name}@{run.agent_version}" if run.agent_version else run.agent_name
        console.print(f"  {agent} in {run.env or '-'}, status {run.status}", markup=False)
        console.print(f"  input:  {str(run.input)[:300]}", markup=False)
        console.print(f"  output: {str(run.output)[:300]}", markup=False)
    for lb in labels:
        console.print(f"  [{lb['key']}] {lb['name']}", markup=False)
    console.print(f"label: agentdeck queue label {q.name} {item.trace_id[:12]} LABEL", markup=False)


def _scores(items: list[str]) -> dict[str, str]:
    out = {}
    for s in items:
        k, sep, v = s.partition("=")
        if not sep or not k:
            raise InputError(f"--score {s!r}: expected name=number")
        out[k] = v
    return out


@app.command("label", help="Label a run of a queue (its feedback and outcome follow the label).")
def label_cmd(
    queue: QueueArg,
    run_id: Annotated[str, typer.Argument(help="Run id or unique prefix.", show_default=False)],
    label: Annotated[
        str, typer.Argument(help="A label of the queue's schema.", show_default=False)
    ],
    score: Annotated[
        list[str] | None, typer.Option("--score", help="name=number (repeatable).")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Free text.")] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.evals.review.queues import get_queue, label_run
    from agentdeck.records.serialize import annotation_json

    store = get_store(db)
    q = get_queue(store, queue, project_in(store, project))
    receipt = label_run(
        store, q, run_id, label, by=actor_name(actor), scores=_scores(score or []),
        comment=comment,
    )  # fmt: skip
    if json:
        print_json({**annotation_json(receipt.annotation), "outcome_set": receipt.outcome_set})
        return
    a = receipt.annotation
    console.print(f"run {a.trace_id} labelled {a.label} in {q.name} by {a.by}", markup=False)
    if receipt.outcome_set:
        console.print("the run's outcome was unknown; set from this label", markup=False)


@app.command("skip", help="Skip a run of a queue (it is not offered by next again).")
def skip_cmd(
    queue: QueueArg,
    run_id: Annotated[str, typer.Argument(help="Run id or unique prefix.", show_default=False)],
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.evals.review.queues import get_queue, skip_run

    store = get_store(db)
    q = get_queue(store, queue, project_in(store, project))
    tid = skip_run(store, q, run_id)
    if json:
        print_json({"queue": q.name, "run_id": tid, "status": "skipped"})
        return
    console.print(f"run {tid} skipped in {q.name}", markup=False)
