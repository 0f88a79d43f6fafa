"""Annotation queues: create from a runs filter (and a seeded sample), walk, label, skip."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from agentdeck.core.annotations.schema import parse_label_schema
from agentdeck.core.yaml_bounded import parse_yaml_text
from agentdeck.evals.review.queues import (
    create_queue,
    get_queue,
    label_run,
    next_item,
    queue_project,
    skip_run,
)
from agentdeck.records.serialize import (
    annotation_json,
    queue_item_json,
    queue_json,
    run_json,
)
from agentdeck.server.auth import Principal
from agentdeck.server.deps import ReadKey, State

router = APIRouter(prefix="/api/v1/queues", tags=["review"])


class QueueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=100)
    label_schema: dict[str, Any] | str = Field(
        ..., alias="schema", description="The label schema: an object, or its YAML text."
    )
    filter: dict[str, str] = Field(
        default_factory=dict,
        description="The runs list's filters: agent, version, env, status, outcome, tool, "
        "since, until, session_id, user_id, has_errors, denied.",
    )
    sample: float | None = Field(None, description="Keep this fraction (0..1] of the runs.")
    seed: int = Field(0, ge=0, le=2**62, description="The sample's seed.")
    limit: int = Field(500, ge=1, le=5000, description="At most this many runs.")


class LabelBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(..., min_length=4, max_length=32)
    label: str = Field(..., min_length=1, max_length=100)
    scores: dict[str, float] = Field(default_factory=dict)
    comment: str | None = Field(None, max_length=4000)


class SkipBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(..., min_length=4, max_length=32)


def label(state: Any, principal: Principal, queue: str, body: LabelBody) -> dict[str, Any]:
    """The write shared by the API and the UI."""
    q = get_queue(state.store, queue, principal.project)
    receipt = label_run(
        state.store, q, body.run_id, body.label, by=principal.actor, scores=body.scores,
        comment=body.comment or None, where="body.",
    )  # fmt: skip
    return {**annotation_json(receipt.annotation), "outcome_set": receipt.outcome_set}


@router.post("", status_code=201, summary="Create a review queue of the runs a filter picks")
def post_queue(body: QueueBody, state: State, principal: ReadKey) -> dict[str, Any]:
    raw = body.label_schema
    data = parse_yaml_text(raw, "body.schema") if isinstance(raw, str) else raw
    schema = parse_label_schema(data, "body.schema")
    q = create_queue(
        state.store, body.name, schema, filters=body.filter, by=principal.actor,
        sample=body.sample, seed=body.seed, limit=body.limit, where="body.",
        project=principal.project,
    )  # fmt: skip
    return queue_json(q, schema=True)


@router.get("", summary="Review queues, newest first, with their counts")
def list_queues(state: State, principal: ReadKey) -> list[dict[str, Any]]:
    return [
        queue_json(q) for q in state.store.list_queues() if queue_project(q) == principal.project
    ]


@router.get("/{queue}", summary="A queue (name or id): its schema and items")
def get_one(queue: str, state: State, principal: ReadKey) -> dict[str, Any]:
    q = get_queue(state.store, queue, principal.project)
    items = state.store.queue_items(q.queue_id)
    return {**queue_json(q, schema=True), "items": [queue_item_json(i) for i in items]}


@router.get("/{queue}/next", summary="The next run to review (null when none is left)")
def get_next(queue: str, state: State, principal: ReadKey, after: int = 0) -> dict[str, Any]:
    q = get_queue(state.store, queue, principal.project)
    item = next_item(state.store, q, after)
    run = state.store.get_run(item.trace_id) if item else None
    return {
        "item": queue_item_json(item) if item else None,
        "run": run_json(run) if run else None,
    }


@router.post("/{queue}/labels", status_code=201, summary="Label a run of the queue")
def post_label(queue: str, body: LabelBody, state: State, principal: ReadKey) -> dict[str, Any]:
    return label(state, principal, queue, body)


@router.post("/{queue}/skip", summary="Skip a run of the queue")
def post_skip(queue: str, body: SkipBody, state: State, principal: ReadKey) -> dict[str, Any]:
    q = get_queue(state.store, queue, principal.project)
    tid = skip_run(state.store, q, body.run_id)
    return {"queue": q.name, "run_id": tid, "status": "skipped"}
