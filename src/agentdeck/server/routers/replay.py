"""Replay: stored replay reports, and running a replay (reproduce, or ``with`` a candidate).

A replay runs the recorded agent version's entrypoint **in the server process**: its module
must be importable there (the server's working directory or ``PYTHONPATH``). Replays take the
tracing SDK's session for their duration, so the server runs one at a time (a lock); others
wait. Tool calls that match no recorded call are misses, never run for real, through the API.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.server.deps import DeployKey, ReadKey, State
from agentdeck.server.project_scope import (
    agent_visible,
    own_agent,
    own_agent_ref,
    own_run,
)
from agentdeck.server.serialize import replay_json
from agentdeck.tracing.replay.engine import compare, reproduce

router = APIRouter(prefix="/api/v1/replays", tags=["replay"])
_one_at_a_time = threading.Lock()
KINDS = ("reproduce", "with", "agreement")


class ReplayBody(BaseModel):
    run_id: str = Field(description="The recorded run (trace id or unique prefix).")
    with_: str | None = Field(
        None,
        alias="with",
        description="Run this agent version against the recording instead (name@N, name@ENV).",
    )


@router.get("", summary="Stored replay reports, newest first")
def list_reports(
    state: State,
    principal: ReadKey,
    run: str | None = Query(None, description="Only replays of this run (trace id)."),
    agent: str | None = Query(None, description="Agent name."),
    kind: str | None = Query(None, description="reproduce, with or agreement."),
    limit: int = Query(50, description="At most this many (1..500)."),
) -> list[dict[str, Any]]:
    if kind and kind not in KINDS:
        raise InputError(f"query.kind: expected one of {', '.join(KINDS)}, got {kind!r}")
    if not 1 <= limit <= 500:
        raise InputError(f"query.limit: expected 1..500, got {limit}")
    found = state.store.list_replay_reports(
        source_trace_id=run or None, agent_name=agent or None, kind=kind or None, limit=limit,
        project=principal.project,
    )  # fmt: skip
    return [replay_json(r) for r in found]


@router.get("/{report_id}", summary="One stored replay report with the full report")
def get_report(report_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    rec = state.store.get_replay_report(report_id)
    if rec is None or not agent_visible(state.store, principal, rec.agent_name):
        raise UnresolvedReferenceError(report_id, "no replay report with that id")
    return replay_json(rec, report=True)


@router.post(
    "",
    summary="Replay a recorded run of the project (agentdeck replay [--with REF]) with an "
    "agent of the project; the replayed run lands in the project, the report is stored",
)
def run_replay(body: ReplayBody, state: State, principal: DeployKey) -> dict[str, Any]:
    store, paths, project = state.store, [Path.cwd()], principal.project
    tid = own_run(store, principal, body.run_id)
    run = store.get_run(tid)
    if run is not None and run.agent_name:
        own_agent(store, principal, run.agent_name)
    with _one_at_a_time:
        if body.with_:
            own_agent_ref(store, principal, body.with_)
            report: dict[str, Any] = compare(
                store, tid, body.with_, paths=paths, project=project
            ).to_dict()
        else:
            report = reproduce(store, tid, paths=paths, project=project).to_dict()
    return report
