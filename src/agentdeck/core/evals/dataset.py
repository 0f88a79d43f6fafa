"""An eval case from a recorded run: its input, its tool responses as fixtures, and what was
expected of it (typed by a reviewer, or the recorded behaviour of a run judged a success).

Pure: the service (:mod:`agentdeck.evals.datasets`) reads the run, its spans and feedback.

- **Input**: the run's input, as the entrypoint received it.
- **Fixtures**: each recorded tool call with its exact arguments serves its recorded result
  (or raises its recorded error); then, for each tool, its first successful recorded response
  is served to a call with other arguments, so a candidate that asks differently still gets the
  world the run saw (an error is replayed for its exact arguments only: it may have been the
  arguments' fault). Denied calls never ran: they have no fixture.
- **Expected**: ``expect`` when given (the suite's ``expect`` syntax); else, when the run's
  outcome (from the agent, an eval or feedback) is a success, the recorded tool calls in order
  with their exact arguments and at most as many steps. A failed run, or one whose outcome is
  unknown, needs ``expect``: what should have happened is the reviewer's to say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.evals.match import observed_calls
from agentdeck.core.trace.model import Outcome, Run, Span


def _equals(args: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): {"equals": v} for k, v in args.items()}


def recorded_fixtures(spans: Sequence[Span]) -> list[dict[str, Any]]:
    """The run's tool responses as suite fixtures (exact arguments first, then per tool)."""
    exact: list[dict[str, Any]] = []
    by_tool: dict[str, dict[str, Any]] = {}
    for call in observed_calls(spans):
        if call.denied:
            continue
        f: dict[str, Any] = {"tool": call.tool, "args": _equals(call.args)}
        if call.error is not None:
            f["error"] = call.error
        else:
            f["result"] = call.result
        if f not in exact:
            exact.append(f)
        if call.tool not in by_tool and call.error is None:
            by_tool[call.tool] = {"tool": call.tool, "result": call.result}
    return exact + list(by_tool.values())


def recorded_expectation(spans: Sequence[Span]) -> dict[str, Any]:
    """The run's own behaviour as an expectation: its calls in order, at most as many steps."""
    calls = [c for c in observed_calls(spans) if not c.denied]
    return {
        "order": "ordered",
        "calls": [{"tool": c.tool, "args": _equals(c.args)} for c in calls],
        "max_steps": len(observed_calls(spans)),
    }


def case_from_run(
    run: Run,
    spans: Sequence[Span],
    *,
    case_id: str | None = None,
    expect: Mapping[str, Any] | None = None,
    feedback_note: str = "",
    where: str = "--",
) -> dict[str, Any]:
    """The eval case (as a suite file writes it) that replays ``run``'s situation.

    ``where`` prefixes option names in errors (``--`` for the CLI, ``body.`` for the API)."""
    if run.input is None:
        raise InputError(f"{run.trace_id}: the run has no recorded input to make a case of")
    if expect is None:
        if run.outcome is not Outcome.SUCCESS:
            told = f"its outcome is {run.outcome}" if run.outcome else "its outcome is unknown"
            raise InputError(
                f"{where}expect: run {run.trace_id[:12]}: {told}{feedback_note}; "
                f"say what was expected (e.g. {where}expect '{{not_called: [issue_refund]}}')"
            )
        expect = recorded_expectation(spans)
        how = "the recorded behaviour of a successful run"
    else:
        how = "typed by the reviewer"
    agent = (
        f"{run.agent_name}@{run.agent_version}" if run.agent_version else (run.agent_name or "?")
    )
    desc = f"From run {run.trace_id} ({agent}, {run.env or 'no env'}); expected: {how}"
    if run.outcome is not None:
        desc += f"; outcome {run.outcome}"
    desc += feedback_note
    case: dict[str, Any] = {
        "id": case_id or f"run-{run.trace_id[:12]}",
        "description": desc,
        "input": run.input,
        "fixtures": recorded_fixtures(spans),
        "expect": dict(expect),
    }
    return case
