"""Agent versions, policy versions and deployments as JSON data: the one shape of each, for the
CLI's ``--json`` (the full commands and the fast read paths) and, through :mod:`.serialize`,
the API. Imports no more than the records themselves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentdeck.core.deploy.model import Deployment
    from agentdeck.core.spec.artifacts import AgentVersion, PolicyVersion

__all__ = ["agent_version_json", "deployment_json", "iso", "policy_version_json"]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def agent_version_json(av: AgentVersion, *, spec: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": av.name,
        "version": av.version,
        "ref": av.ref,
        "digest": av.digest,
        "model": av.spec.model.id,
        "tools": [t.name for t in av.spec.tools],
        "policy": av.spec.policy,
        "created_at": iso(av.created_at),
        "created_by": av.created_by,
    }
    if spec:
        out["spec"] = av.spec.to_dict()
    return out


def policy_version_json(pv: PolicyVersion, *, policy: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": pv.name,
        "version": pv.version,
        "ref": pv.ref,
        "digest": pv.digest,
        "rules": len(pv.policy.rules),
        "created_at": iso(pv.created_at),
        "created_by": pv.created_by,
    }
    if policy:
        out["policy"] = pv.policy.to_dict()
    return out


def deployment_json(d: Deployment) -> dict[str, Any]:
    return {
        "id": d.id,
        "agent": d.agent_name,
        "env": d.env,
        "seq": d.seq,
        "version": d.agent_version,
        "digest": d.agent_digest,
        "policy_digest": d.policy_digest,
        "action": d.action.value,
        "actor": d.actor,
        "reason": d.reason,
        "at": iso(d.at),
        "previous_id": d.previous_id,
        "health": d.health.value,
        "forced": d.forced,
    }
