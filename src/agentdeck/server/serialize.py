"""Domain values as JSON data for API responses (one shape per value, shared by routes and UI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agentdeck.core.artifacts import AgentVersion, PolicyVersion
from agentdeck.core.deploy import Deployment
from agentdeck.core.errors import InputError
from agentdeck.core.rca import RootCause
from agentdeck.store.protocol import ApiKeyRecord
from agentdeck.tracing.wire import span_to_dict


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


def key_json(k: ApiKeyRecord) -> dict[str, Any]:
    return {
        "id": k.id,
        "name": k.name,
        "scopes": list(k.scopes),
        "created_at": iso(k.created_at),
        "created_by": k.created_by,
        "revoked_at": iso(k.revoked_at),
    }


def rca_json(rc: RootCause) -> dict[str, Any]:
    return {
        "failure": span_to_dict(rc.failure),
        "cause": None
        if rc.cause is None
        else {
            "span": span_to_dict(rc.cause.span),
            "why": rc.cause.why.value,
            "detail": rc.cause.detail,
        },
        "path": [
            {
                "span_id": p.span.span_id,
                "name": p.span.name,
                "kind": p.span.kind.value,
                "edge": p.edge.value if p.edge else None,
            }
            for p in rc.path
        ],
        "bad_spans": [
            {"span_id": b.span.span_id, "name": b.span.name, "why": b.why.value, "detail": b.detail}
            for b in rc.bad_spans
        ],
    }


def parse_time(text: str, part: str) -> datetime:
    """ISO 8601 (naive = UTC) or integer nanoseconds since the epoch; errors name ``part``."""
    t = text.strip()
    if t.isdigit():
        return datetime.fromtimestamp(int(t) / 1e9, UTC)
    try:
        value = datetime.fromisoformat(t.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{part}: {text!r} is not an ISO 8601 time or nanoseconds") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def time_ns(text: str | None, part: str) -> int | None:
    return None if text is None else int(parse_time(text, part).timestamp() * 1e9)
