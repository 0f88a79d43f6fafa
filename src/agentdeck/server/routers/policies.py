"""Policies beyond the registry: evaluate a call, run and read policy tests, coverage, simulate
a version on recorded runs, and the approval queue (tool calls waiting for a human).

The SDK's :class:`~agentdeck.policy.approvals_http.HttpApprover` opens a request with its
ingest key (``POST /approvals``) and polls it (``GET /approvals/{id}``); the request records
the opening key's id (``requested_by``) and an ingest key reads back only the requests whose
``requested_by`` is its own id. Deciding needs the deploy scope. A request is read and decided
through the same functions as the embedded :class:`~agentdeck.policy.approvals.StoreApprover`
uses, and one past its ``expires_at`` is expired on the way (the server, not the waiting SDK,
owns the deadline); a listing expires every such request first.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.policy.context import ToolCallContext
from agentdeck.core.policy.coverage import policy_coverage
from agentdeck.core.policy.evaluate import compile_policy
from agentdeck.core.trace.query import RunQuery
from agentdeck.policy import approvals
from agentdeck.policy.simulate import simulate
from agentdeck.policy.testing import (
    agent_defaults,
    record_policy_tests,
    run_tests_for_agent,
)
from agentdeck.server.agent_scope import require_agent, require_approval, require_policy
from agentdeck.server.auth import AuthError, Principal, Scope
from agentdeck.server.deps import DeployKey, IngestKey, ReadKey, ReadOrIngestKey, State
from agentdeck.server.project_scope import (
    agent_visible,
    own_agent,
    own_agent_ref,
    own_policy_ref,
)
from agentdeck.server.serialize import approval_json, policy_tests_json, time_ns
from agentdeck.server.validation import JsonObject, Version

router = APIRouter(prefix="/api/v1", tags=["policies"])

APPROVAL_STATUSES = approvals.APPROVAL_STATUSES
MAX_APPROVAL_TIMEOUT_S = 7 * 24 * 3600.0
#: Runs one simulate request may read (it answers synchronously; the CLI takes up to 100,000).
MAX_SIMULATE_RUNS = 10_000


class EvalBody(BaseModel):
    call: JsonObject = Field(
        description='The call: {"tool": ..., "args": {...}, "agent": {...}, "env": ..., '
        '"run": {"calls": [...]}} (only tool is required).'
    )
    agent: str | None = Field(
        None, description="Agent version the call comes from (fills call.agent when absent)."
    )


class TestsBody(BaseModel):
    agent: str | None = Field(
        None, description="Agent version to test for; its result is stored for the gate."
    )


class SimulateBody(BaseModel):
    """``agentdeck policy simulate`` as a request; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    policy: str = Field(min_length=1, description="A registered policy: name@N (or name).")
    agent: str = Field(min_length=1, description="Agent name whose recorded runs to simulate.")
    version: Version | None = Field(None, description="Only runs of this agent version.")
    env: str | None = Field(None, description="Only runs of this environment.")
    since: str | None = Field(None, description="Runs started at or after (ISO 8601 or ns).")
    until: str | None = Field(None, description="Runs started before (ISO 8601 or ns).")
    limit: int = Field(1000, ge=1, le=MAX_SIMULATE_RUNS, description="At most this many runs.")
    changed_only: bool = Field(False, description="List only calls whose decision changes.")


class ApprovalBody(BaseModel):
    """A tool call that needs approval, as the SDK's guard saw it (the stored fields of
    :class:`~agentdeck.policy.approvals.ApprovalRequest`); bounded like the table's columns,
    and unknown fields are refused so that a misspelt one is not silently lost."""

    model_config = ConfigDict(extra="forbid")

    tool: str = Field(min_length=1, max_length=128, description="The tool the agent calls.")
    args: JsonObject = Field(default_factory=dict, description="The call's arguments.")
    policy_name: str = Field(min_length=1, max_length=100)
    policy_version: Version | None = None
    policy_digest: str = Field(min_length=1, max_length=80)
    rules: list[str] = Field(
        default_factory=list, description="Ids of the rules that asked for approval."
    )
    message: str = Field("", description="The rules' message, for the human.")
    agent_name: str | None = Field(None, max_length=100)
    agent_version: Version | None = None
    agent_digest: str | None = Field(None, max_length=80)
    env: str | None = Field(None, max_length=60)
    trace_id: str | None = Field(None, max_length=32)
    span_id: str | None = Field(None, max_length=16)
    timeout_s: float = Field(
        300.0,
        gt=0,
        le=MAX_APPROVAL_TIMEOUT_S,
        description="Seconds until the request expires if nobody decides it.",
    )

    def request(self) -> approvals.ApprovalRequest:
        return approvals.ApprovalRequest(
            tool=self.tool, args=self.args, policy_name=self.policy_name,
            policy_version=self.policy_version, policy_digest=self.policy_digest,
            rules=tuple(self.rules), message=self.message, explanation="",
            agent_name=self.agent_name, agent_version=self.agent_version,
            agent_digest=self.agent_digest, env=self.env, trace_id=self.trace_id,
            span_id=self.span_id,
        )  # fmt: skip


class DecisionBody(BaseModel):
    reason: str = Field("", description="Why (recorded and audited).")


@router.post("/policies/{ref}/eval", summary="Decide one tool call and explain it (policy eval)")
def eval_call(ref: str, body: EvalBody, state: State, principal: ReadKey) -> dict[str, Any]:
    own_policy_ref(state.store, principal, ref)
    pv = state.registry.get_policy(ref)
    data: dict[str, Any] = dict(body.call)
    if body.agent:
        own_agent_ref(state.store, principal, body.agent)
        data = {**agent_defaults(state.registry.get(body.agent)), **data}
    ctx = ToolCallContext.from_dict(data, "body", "call.")
    return compile_policy(pv.policy, pv.ref).decide(ctx).to_dict()


@router.post(
    "/policies/simulate",
    summary="What a policy version would have decided on recorded runs (policy simulate)",
)
def simulate_policy(body: SimulateBody, state: State, principal: ReadKey) -> dict[str, Any]:
    own_policy_ref(state.store, principal, body.policy)
    own_agent(state.store, principal, body.agent)
    pv = state.registry.get_policy(body.policy)
    query = RunQuery(
        project=principal.project, agent_name=body.agent, agent_version=body.version, env=body.env or None,
        since_ns=time_ns(body.since or None, "body.since"),
        until_ns=time_ns(body.until or None, "body.until"), limit=body.limit,
    )  # fmt: skip
    out = simulate(state.store, pv.policy, query, label=pv.ref).to_dict(
        changed_only=body.changed_only
    )
    out["selection"] = body.model_dump(exclude={"policy", "changed_only"})
    return out


@router.get(
    "/policies/{ref}/tests",
    summary="The stored policy test result for an agent version (what the gate reads)",
)
def get_tests(
    ref: str,
    state: State,
    principal: ReadKey,
    agent: str = Query(description="Agent version (name@N, name@ENV, ...)."),
) -> dict[str, Any]:
    own_policy_ref(state.store, principal, ref)
    own_agent_ref(state.store, principal, agent)
    pv = state.registry.get_policy(ref)
    av = state.registry.get(agent)
    rec = state.store.get_policy_test_result(pv.digest, av.digest)
    if rec is None:
        raise UnresolvedReferenceError(f"{pv.ref} x {av.ref}", "no stored policy test result")
    return policy_tests_json(rec)


@router.post(
    "/policies/{ref}/tests",
    summary="Run a policy's test cases (for an agent version: stored for the gate)",
)
def run_tests(ref: str, body: TestsBody, state: State, principal: DeployKey) -> dict[str, Any]:
    own_policy_ref(state.store, principal, ref)
    if body.agent:
        own_agent_ref(state.store, principal, body.agent)
    pv = state.registry.get_policy(ref)
    av = state.registry.get(body.agent) if body.agent else None
    if av is not None:  # only then is anything stored (for the agent's promotion gate)
        require_agent(principal, av.name)
        require_policy(principal, state.store, pv.name)
    tests = run_tests_for_agent(pv.policy, pv.ref, av)
    if av is not None:
        tests = record_policy_tests(state.store, pv.ref, tests, principal.actor)
    return tests.to_dict()


@router.get(
    "/agents/{ref}/policy-coverage",
    summary="Tools and argument fields of an agent version no policy rule mentions",
)
def coverage(
    ref: str,
    state: State,
    principal: ReadKey,
    policy: str | None = Query(None, description="Check this policy instead of the pinned one."),
    since: str | None = Query(None, description="An earlier version: also list what is new."),
) -> dict[str, Any]:
    own_agent_ref(state.store, principal, ref)
    if policy:
        own_policy_ref(state.store, principal, policy)
    if since:
        own_agent_ref(state.store, principal, since)
    reg = state.registry
    av = reg.get(ref)
    if policy:
        pv = reg.get_policy(policy)
    else:
        pinned = reg.policy_for(av.spec)
        if pinned is None:
            raise InputError(f"{av.ref} pins no policy; pass query.policy to check one")
        pv = pinned
    old = reg.get(since) if since else None
    report = policy_coverage(pv.policy, av.spec, old.spec if old else None)
    return {
        "agent": av.ref,
        "policy": pv.ref,
        "since": old.ref if old else None,
        "fully_covered": report.fully_covered,
        "tools": [{"tool": t.tool, "covered": t.covered} for t in report.tools],
        "uncovered_tools": list(report.uncovered_tools),
        "uncovered_fields": [{"tool": f.tool, "field": f.path} for f in report.uncovered_fields],
        "unknown_tools": list(report.unknown_tools),
        "new_tools": [{"tool": t.tool, "covered": t.covered} for t in report.new_tools],
        "new_fields": [
            {"tool": f.tool, "field": f.path, "covered": f.covered} for f in report.new_fields
        ],
    }


@router.get("/approvals", summary="Tool calls waiting for (or given) approval")
def list_approvals(
    state: State,
    principal: ReadKey,
    status: str = Query("pending", description="pending, granted, denied, expired or all."),
    limit: int = Query(100, description="At most this many (1..1000)."),
) -> list[dict[str, Any]]:
    if status not in APPROVAL_STATUSES:
        raise InputError(f"query.status: {status!r} is not one of {', '.join(APPROVAL_STATUSES)}")
    if not 1 <= limit <= 1000:
        raise InputError(f"query.limit: expected 1..1000, got {limit}")
    found = approvals.list_current(state.store, status, limit, project=principal.project)
    return [approval_json(a) for a in found]


def _own_approval(state: Any, principal: Principal, approval_id: str) -> None:
    """Refuse (404) an approval request of another project's agent."""
    rec = state.store.get_approval(approval_id)
    if rec is not None and not agent_visible(state.store, principal, rec.agent_name):
        raise UnresolvedReferenceError(approval_id, "no approval request with that id")


@router.post(
    "/approvals",
    status_code=201,
    summary="Open an approval request for a tool call; the SDK then polls it (ingest scope)",
)
def open_approval(body: ApprovalBody, state: State, principal: IngestKey) -> dict[str, Any]:
    if not agent_visible(state.store, principal, body.agent_name):
        raise UnresolvedReferenceError(
            f"body.agent_name: {body.agent_name}", "no agent of that name is registered"
        )
    rec = approvals.open_request(
        state.store, body.request(), body.timeout_s, requested_by=principal.key_id
    )
    return approval_json(rec)


@router.get(
    "/approvals/{approval_id}",
    summary="One approval request (an ingest key: only those it opened)",
)
def get_approval(approval_id: str, state: State, principal: ReadOrIngestKey) -> dict[str, Any]:
    rec = state.store.get_approval(approval_id)
    if not principal.allows(Scope.READ) and (rec is None or rec.requested_by != principal.key_id):
        # the same 403 whether the id is unknown or another's: no probing for ids
        raise AuthError(
            403,
            f"API key {principal.name!r} lacks the 'read' scope for this route "
            "(an ingest key reads only the approval requests it opened)",
        )
    if rec is None or not agent_visible(state.store, principal, rec.agent_name):
        raise UnresolvedReferenceError(approval_id, "no approval request with that id")
    return approval_json(approvals.expire_if_due(state.store, rec))


@router.post(
    "/approvals/{approval_id}/approve",
    summary="Grant a pending request: the waiting tool call runs (policy approve)",
)
def approve(
    approval_id: str, body: DecisionBody, state: State, principal: DeployKey
) -> dict[str, Any]:
    _own_approval(state, principal, approval_id)
    require_approval(principal, state.store, approval_id)
    return approval_json(approvals.grant(state.store, approval_id, principal.actor, body.reason))


@router.post(
    "/approvals/{approval_id}/reject",
    summary="Reject a pending request: the waiting tool call is denied (policy reject)",
)
def reject(
    approval_id: str, body: DecisionBody, state: State, principal: DeployKey
) -> dict[str, Any]:
    _own_approval(state, principal, approval_id)
    require_approval(principal, state.store, approval_id)
    return approval_json(approvals.reject(state.store, approval_id, principal.actor, body.reason))
