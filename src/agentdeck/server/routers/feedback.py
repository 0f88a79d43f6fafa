"""Feedback on runs: give it (a person through the UI or a read key, a program through its
ingest key) and list it. Writes go through the same audited service as the CLI's."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from agentdeck.core.trace.feedback import MAX_BY, MAX_COMMENT, MAX_LABEL, FeedbackSource
from agentdeck.server.agent_scope import require_agent
from agentdeck.server.auth import Principal
from agentdeck.server.deps import ReadKey, ReadOrIngestKey, State
from agentdeck.server.project_scope import own_run
from agentdeck.tracing.analysis.feedback import FeedbackReceipt, record_feedback

router = APIRouter(prefix="/api/v1/runs", tags=["runs"])


class FeedbackBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: float | None = Field(None, description="A number; in [0, 1], >= 0.5 is success.")
    label: str | None = Field(None, max_length=MAX_LABEL, description="e.g. thumbs_up.")
    comment: str | None = Field(None, max_length=MAX_COMMENT)
    by: str | None = Field(
        None, max_length=MAX_BY, description="Who gave it (default: the API key's name)."
    )
    source: Literal["human", "program"] = Field(
        "human", description="A person, or a program such as an evaluator."
    )


def give_feedback(
    state: Any, principal: Principal, run_id: str, body: FeedbackBody
) -> FeedbackReceipt:
    """The write shared by the API and the UI."""
    return record_feedback(
        state.store,
        run_id,
        score=body.score,
        label=body.label,
        comment=body.comment,
        by=body.by or principal.actor,
        source=FeedbackSource(body.source),
        where="body.",
        actor=principal.actor,
        may_act_on=lambda agent: require_agent(principal, agent or ""),
    )


@router.post(
    "/{run_id}/feedback",
    status_code=201,
    summary="Give a run feedback (score, label, comment); sets an unknown outcome",
)
def post_feedback(
    run_id: str, body: FeedbackBody, state: State, principal: ReadOrIngestKey
) -> dict[str, Any]:
    receipt = give_feedback(state, principal, own_run(state.store, principal, run_id), body)
    return {**receipt.feedback.to_dict(), "outcome_set": receipt.outcome_set}


@router.get("/{run_id}/feedback", summary="A run's feedback, oldest first")
def list_feedback(run_id: str, state: State, principal: ReadKey) -> list[dict[str, Any]]:
    return [f.to_dict() for f in state.store.list_feedback(own_run(state.store, principal, run_id))]
