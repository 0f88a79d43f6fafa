"""Records as JSON data: the one shape of each record type, for the CLI's ``--json`` and the API.

Times are UTC ISO 8601 strings; agents are named ``agent`` (a name, or ``name@N`` where a record
points at one version). :mod:`agentdeck.server.serialize` re-exports these for the routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentdeck.core.access.projects import ProjectRecord
from agentdeck.core.access.records import ApiKeyRecord
from agentdeck.core.annotations.records import Annotation, QueueItem, QueueRecord
from agentdeck.core.behaviour.records import AlertRecord, BaselineRecord, FindingRecord
from agentdeck.core.cost import CostChange, CostTotal, ModelPrice, Rate, RunsCost
from agentdeck.core.deploy.audit_chain import AuditEntry
from agentdeck.core.deploy.canary import Canary
from agentdeck.core.evals.result import EvalResult
from agentdeck.core.policy.records import ApprovalRecord, PolicyTestRecord
from agentdeck.core.trace.records import ReplayReportRecord
from agentdeck.records.versions_json import (
    agent_version_json as agent_version_json,
)
from agentdeck.records.versions_json import (
    deployment_json as deployment_json,
)
from agentdeck.records.versions_json import (
    iso as iso,
)
from agentdeck.records.versions_json import (
    policy_version_json as policy_version_json,
)
from agentdeck.tracing.analysis.queries import run_json as run_json  # one run shape


def project_json(p: ProjectRecord) -> dict[str, Any]:
    return {"name": p.name, "created_at": iso(p.created_at), "created_by": p.created_by}


def key_json(k: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "scopes": list(k.scopes),
        "agents": list(k.agents),
        "created_at": iso(k.created_at),
        "created_by": k.created_by,
        "revoked_at": iso(k.revoked_at),
        "project": k.project,
        "all_projects": k.all_projects,
    }


def finding_json(f: FindingRecord) -> dict[str, Any]:
    return {
        "id": f.id,
        "trace_id": f.trace_id,
        "span_id": f.span_id,
        "agent": f.agent_name,
        "env": f.env,
        "check": f.check,
        "severity": f.severity,
        "explanation": f.explanation,
        "at": iso(f.at),
    }


def alert_json(a: AlertRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "rule": a.rule,
        "subject": a.subject,
        "agent": a.agent_name,
        "env": a.env,
        "severity": a.severity,
        "status": a.status,
        "message": a.message,
        "value": a.value,
        "opened_at": iso(a.opened_at),
        "last_seen_at": iso(a.last_seen_at),
        "updated_at": iso(a.updated_at),
        "updated_by": a.updated_by,
        "action": a.action,
    }


def baseline_json(b: BaselineRecord) -> dict[str, Any]:
    return {
        "name": b.name,
        "agent": b.agent_name,
        "agent_digest": b.agent_digest,
        "env": b.env,
        "selection": b.selection,
        "runs": b.n_runs,
        "created_at": iso(b.created_at),
        "created_by": b.created_by,
    }


def approval_json(a: ApprovalRecord) -> dict[str, Any]:
    return {
        "id": a.id,
        "status": a.status,
        "tool": a.tool,
        "args": a.args,
        "agent": f"{a.agent_name}@{a.agent_version}" if a.agent_name else None,
        "agent_digest": a.agent_digest,
        "env": a.env,
        "policy": f"{a.policy_name}@{a.policy_version}",
        "policy_digest": a.policy_digest,
        "rules": list(a.rules),
        "message": a.message,
        "trace_id": a.trace_id,
        "span_id": a.span_id,
        "requested_at": iso(a.requested_at),
        "requested_by": a.requested_by,
        "expires_at": iso(a.expires_at),
        "decided_at": iso(a.decided_at),
        "decided_by": a.decided_by,
        "reason": a.reason,
    }


def policy_tests_json(r: PolicyTestRecord) -> dict[str, Any]:
    return {
        "policy": r.policy_ref,
        "policy_digest": r.policy_digest,
        "agent": r.agent_ref,
        "agent_digest": r.agent_digest,
        "passed": r.passed,
        "total": r.total,
        "failed": r.failed,
        "cases": list(r.results),
        "ran_at": iso(r.ran_at),
        "ran_by": r.ran_by,
    }


def eval_summary_json(r: EvalResult) -> dict[str, Any]:
    """An eval result without its cases (lists)."""
    full = r.to_dict()
    full.pop("cases")
    full["agent_name"] = r.agent_name
    full["agent_version"] = r.agent_version
    return full


def replay_json(r: ReplayReportRecord, *, report: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "kind": r.kind,
        "source_trace_id": r.source_trace_id,
        "replay_trace_id": r.replay_trace_id,
        "agent": r.agent_name,
        "candidate_digest": r.candidate_digest,
        "outcome": r.outcome,
        "score": r.score,
        "created_at": iso(r.created_at),
    }
    if report:
        out["report"] = r.report
    return out


def audit_entry_json(e: AuditEntry) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,  # already UTC ISO 8601, exactly as hashed
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "payload": dict(e.payload),
        "project": e.project,  # "*": server-wide (every project's log shows it)
        "hash": e.hash,
    }


def canary_json(c: Canary, judgement: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A canary, with a judgement (a fresh one for a live canary; else its last)."""
    return {
        "id": c.id,
        "agent": c.agent_name,
        "env": c.env,
        "state": c.state.value,
        "shadow": c.shadow,
        "share": c.share,
        "step": c.step,
        "plan": [
            {"share": s.share, "min_runs": s.min_runs, "min_minutes": s.min_minutes}
            for s in c.config.plan
        ],
        "candidate": {"version": c.candidate_version, "digest": c.candidate_digest},
        "stable": {
            "version": c.stable_version,
            "digest": c.stable_digest,
            "deployment_id": c.stable_deployment_id,
        },
        "alpha": c.config.alpha,
        "key": c.config.key,
        "actor": c.actor,
        "reason": c.reason,
        "started_at": iso(c.started_at),
        "step_started_at": iso(c.step_started_at),
        "updated_at": iso(c.updated_at),
        "judgement": dict(judgement if judgement is not None else c.judgement) or None,
    }


# -- human review and datasets (docs/datasets.md) ---------------------------------------------


def queue_json(q: QueueRecord, *, schema: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": q.queue_id,
        "name": q.name,
        "filter": dict(q.filter),
        "sample": q.sample,
        "seed": q.seed,
        "created_by": q.created_by,
        "created_at": iso(q.created_at),
        "total": q.total,
        "pending": q.counts.get("pending", 0),
        "labelled": q.counts.get("labelled", 0),
        "skipped": q.counts.get("skipped", 0),
        "labels": [lb.name for lb in q.schema.labels],
    }
    if schema:
        out["schema"] = q.schema.to_dict()
    return out


def queue_item_json(item: QueueItem) -> dict[str, Any]:
    return {"position": item.position, "run_id": item.trace_id, "status": str(item.status)}


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {
        "id": a.annotation_id,
        "queue_id": a.queue_id,
        "run_id": a.trace_id,
        "label": a.label,
        "pass": a.passed,
        "scores": dict(a.scores),
        "comment": a.comment,
        "by": a.by,
        "created_at": iso(a.created_at),
        "agent": a.agent_name,
        "digest": a.agent_digest,
    }


def dataset_case_json(suite: str, where: str, run_id: str, case: Any) -> dict[str, Any]:
    """A case added to a suite from a run: the suite, where it went (a file, or ``stored``)."""
    return {"suite": suite, "where": where, "run_id": run_id, "case": dict(case)}


def cost_total_json(t: CostTotal, group_by: str) -> dict[str, Any]:
    """One group of :func:`agentdeck.tracing.analysis.cost.cost_totals` (API and CLI)."""
    return {
        group_by: t.key,
        "runs": t.runs,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
        "total_tokens": t.total_tokens,
        "cost_usd": t.cost_usd,
        "mean_cost_usd": t.mean_cost_usd,
        "unpriced_calls": t.unpriced_calls,
        "max_cost_usd": t.max_cost_usd,
    }


def _runs_cost_json(c: RunsCost) -> dict[str, Any]:
    return {
        "ref": c.ref,
        "runs": c.runs,
        "mean_cost_usd": c.mean_cost_usd,
        "mean_tokens": c.mean_tokens,
        "unpriced_calls": c.unpriced_calls,
    }


def cost_change_json(c: CostChange) -> dict[str, Any]:
    """The cost change between two versions (``diff`` and ``eval --compare``)."""
    return {
        "before": _runs_cost_json(c.before),
        "after": _runs_cost_json(c.after),
        "delta_usd": c.delta_usd,
        "ratio": c.ratio,
    }


def _rate_json(r: Rate | None) -> dict[str, Any] | None:
    if r is None:
        return None
    return {
        "usd_per_mtok": r.base,
        "tiers": [{"above_input_tokens": s, "usd_per_mtok": p} for s, p in r.tiers],
    }


def model_price_json(p: ModelPrice) -> dict[str, Any]:
    """A model's price (USD per million tokens) and where it came from."""
    return {
        "model": p.model,
        "provider": p.provider,
        "source": p.source,
        "input": _rate_json(p.input),
        "output": _rate_json(p.output),
        "cache_read": _rate_json(p.cache_read),
        "reasoning": _rate_json(p.reasoning),
    }
