"""``agentdeck feedback``: a score, label and comment on a run, from a person or a program."""

from __future__ import annotations

from typing import Annotated

import typer

from agentdeck.cli.common import (
    DbOpt,
    JsonOpt,
    ProjectOpt,
    actor_name,
    console,
    get_store,
    print_json,
    project_in,
)


def register(app: typer.Typer) -> None:
    app.command(
        "feedback",
        help="Give a run feedback: a score and/or a label, a comment, who gave it. "
        "Sets the run's outcome when none is known.",
    )(feedback_cmd)


def feedback_cmd(
    run_id: Annotated[
        str, typer.Argument(help="Run (trace) id, or a unique prefix of it.", show_default=False)
    ],
    score: Annotated[
        float | None, typer.Option("--score", help="A number; in [0, 1], >= 0.5 means success.")
    ] = None,
    label: Annotated[
        str | None,
        typer.Option("--label", help="A label, e.g. thumbs_up, thumbs_down, wrong_tool."),
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="Free text.")] = None,
    by: Annotated[
        str | None,
        typer.Option("--by", help="Who gives it (default: AGENTDECK_ACTOR or the OS user)."),
    ] = None,
    program: Annotated[
        bool, typer.Option("--program", help="The feedback comes from a program, not a person.")
    ] = False,
    db: DbOpt = None,
    json: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    from agentdeck.cli.scope import own_run
    from agentdeck.core.trace.feedback import FeedbackSource
    from agentdeck.tracing.analysis.feedback import record_feedback

    store = get_store(db)
    receipt = record_feedback(
        store,
        own_run(store, project_in(store, project), run_id),
        score=score,
        label=label,
        comment=comment,
        by=actor_name(by),
        source=FeedbackSource.PROGRAM if program else FeedbackSource.HUMAN,
        where="--",
    )
    if json:
        print_json({**receipt.feedback.to_dict(), "outcome_set": receipt.outcome_set})
        return
    fb = receipt.feedback
    what = ", ".join(
        p for p in (f"score {fb.score:g}" if fb.score is not None else "",
                    f"label {fb.label}" if fb.label else "") if p
    )  # fmt: skip
    console.print(f"feedback on run {fb.trace_id} by {fb.by}: {what}", markup=False)
    if receipt.outcome_set:
        console.print("the run's outcome was unknown; set from this feedback", markup=False)
