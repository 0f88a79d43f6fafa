"""Eval suites made from production runs: add a run as a case, list and read stored suites.

``agentdeck eval NAME`` runs a stored suite; ``agentdeck suite export NAME`` writes it as a file.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from agentdeck.evals.datasets.add_run import add_to_stored, suite_document, suite_names
from agentdeck.records.serialize import dataset_case_json
from agentdeck.server.agent_scope import require_agent
from agentdeck.server.auth import Principal
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import own_run

router = APIRouter(prefix="/api/v1/suites", tags=["datasets"])


class AddRunBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(..., min_length=4, max_length=32, description="Run id or unique prefix.")
    expect: dict[str, Any] | None = Field(
        None,
        description="What was expected, in the suite's expect syntax; default: the recorded "
        "behaviour, allowed only for a run whose outcome is success.",
    )
    case_id: str | None = Field(None, max_length=200, description="Default: run-<id prefix>.")


def add_run(state: Any, principal: Principal, suite: str, body: AddRunBody) -> dict[str, Any]:
    """The write shared by the API and the UI: a run of the principal's project, to a suite
    of its project (or a new one)."""
    store = state.store
    run = store.get_run(own_run(store, principal, body.run_id))
    require_agent(principal, (run.agent_name if run else None) or "")
    added = add_to_stored(
        store, body.run_id, suite, by=principal.actor, expect=body.expect,
        case_id=body.case_id or None, where="body.", project=principal.project,
    )  # fmt: skip
    return dataset_case_json(added.suite, added.where, added.trace_id, added.case)


@router.post(
    "/{suite}/cases",
    status_code=201,
    summary="Add a run to a stored suite as an eval case (input, recorded tool responses as "
    "fixtures, expected behaviour)",
)
def post_case(suite: str, body: AddRunBody, state: State, principal: ReadKey) -> dict[str, Any]:
    return add_run(state, principal, suite, body)


@router.get("", summary="Stored suites and their number of cases")
def list_suites(state: State, principal: ReadKey) -> list[dict[str, Any]]:
    return [{"suite": n, "cases": c} for n, c in suite_names(state.store, principal.project)]


@router.get("/{suite}", summary="A stored suite as a suite file's content")
def get_suite(suite: str, state: State, principal: ReadKey) -> dict[str, Any]:
    return suite_document(state.store, suite, principal.project)
