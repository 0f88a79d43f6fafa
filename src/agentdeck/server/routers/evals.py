"""Eval results (bound to agent digests), comparing two results, and online evaluator scores."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.evals.result import EvalResult, compare_results, summarize
from agentdeck.core.spec.refs import parse_ref
from agentdeck.core.trace.query import RunQuery
from agentdeck.evals.online import score_summary
from agentdeck.server.auth import Principal
from agentdeck.server.deps import ReadKey, State
from agentdeck.server.project_scope import agent_visible, own_agent, own_agent_ref
from agentdeck.server.serialize import eval_summary_json, time_ns
from agentdeck.server.validation import Version

router = APIRouter(prefix="/api/v1", tags=["evals"])


def _limit(limit: int, top: int = 1000) -> int:
    if not 1 <= limit <= top:
        raise InputError(f"query.limit: expected 1..{top}, got {limit}")
    return limit


def _result(state: State, principal: Principal, result_id: str, part: str) -> EvalResult:
    found = state.store.get_eval_result(result_id)
    if found is None or not agent_visible(state.store, principal, found.agent_name):
        raise UnresolvedReferenceError(result_id, f"{part}: no eval result with that id")
    return found


@router.get("/evals", summary="Eval results, newest first, by agent (name or exact version)")
def list_results(
    state: State,
    principal: ReadKey,
    agent: str | None = Query(
        None, description="Agent name (all versions) or a version (name@N, name@ENV, ...)."
    ),
    suite: str | None = Query(None, description="Suite name."),
    limit: int = Query(50, description="At most this many (1..500)."),
) -> list[dict[str, Any]]:
    name = digest = None
    if agent:
        own_agent_ref(state.store, principal, agent)
        r = parse_ref(agent)
        if r.version is None and r.digest is None and r.env is None:
            name = r.name
        else:
            digest = state.registry.get(agent).digest
    found = state.store.eval_results(
        agent_digest=digest, agent_name=name, suite_name=suite or None, limit=_limit(limit, 500),
        project=principal.project,
    )  # fmt: skip
    return [eval_summary_json(r) for r in found]


@router.get("/evals/compare", summary="Two results of a suite compared case by case")
def compare(
    state: State,
    principal: ReadKey,
    before: str = Query(description="The earlier result's id."),
    after: str = Query(description="The later result's id."),
) -> dict[str, Any]:
    a = _result(state, principal, before, "query.before")
    b = _result(state, principal, after, "query.after")
    if a.suite_name != b.suite_name:
        raise InputError(
            f"query.after: result of suite {b.suite_name!r}, not {a.suite_name!r} like query.before"
        )
    changes = compare_results(a, b)
    return {
        "before": eval_summary_json(a),
        "after": eval_summary_json(b),
        "summary": summarize(changes),
        "changes": [c.to_dict() for c in changes],
    }


@router.get("/evals/{result_id}", summary="One eval result with its case verdicts")
def get_result(result_id: str, state: State, principal: ReadKey) -> dict[str, Any]:
    return _result(state, principal, result_id, "path.result_id").to_dict()


@router.get(
    "/scores", summary="Online evaluator scores of an agent's recent runs (agentdeck scores)"
)
def scores(
    state: State,
    principal: ReadKey,
    agent: str = Query(description="Agent name."),
    env: str | None = Query("production", description="Environment ('' for all)."),
    version: Version | None = Query(None, description="Only runs of this version."),
    since: str | None = Query(None, description="Runs started at or after (ISO 8601 or ns)."),
    limit: int = Query(1000, description="At most this many recent runs (1..100000)."),
) -> list[dict[str, Any]]:
    own_agent(state.store, principal, agent)
    q = RunQuery(
        project=principal.project,
        agent_name=agent,
        agent_version=version,
        env=env or None,
        since_ns=time_ns(since or None, "query.since"),
        limit=_limit(limit, 100_000),
    )
    return [
        {"evaluator": s.evaluator, "runs": s.runs, "mean": s.mean, "pass_rate": s.pass_rate}
        for s in score_summary(state.store, q)
    ]
