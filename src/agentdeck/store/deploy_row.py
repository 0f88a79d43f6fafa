"""Stored ``deployments`` and ``audit_log`` rows as records: one conversion each for the SQL
store (:mod:`.sql_deploy`, :mod:`.sql_audit`) and the CLI's read-only SQLite path
(:mod:`.lite_deploy`); no SQLAlchemy. The stored JSON is read with the standard library's ``json`` (orjson, with
the ``uuid`` and ``platform`` it imports, is start-up time a text command does not need)."""

from __future__ import annotations

import json
from typing import Any

from agentdeck.core.deploy.audit_chain import AuditEntry
from agentdeck.core.deploy.model import Action, Deployment, Health
from agentdeck.store.utc import as_utc

__all__ = ["audit_entry_row", "deployment_row"]


def deployment_row(row: Any) -> Deployment:
    """``row``: any row whose columns are attributes (a SQLAlchemy ``Row``, a namespace)."""
    return Deployment(
        id=row.id,
        agent_name=row.agent_name,
        env=row.env,
        seq=int(row.seq),
        agent_digest=row.agent_digest,
        agent_version=int(row.agent_version),
        policy_digest=row.policy_digest,
        action=Action(row.action),
        actor=row.actor,
        reason=row.reason,
        at=as_utc(row.at),
        previous_id=row.previous_id,
        health=Health(row.health),
        forced=bool(row.forced),
    )


def audit_entry_row(r: Any) -> AuditEntry:
    return AuditEntry(
        seq=int(r.seq),
        at=r.at,
        actor=r.actor,
        action=r.action,
        subject=r.subject,
        payload=json.loads(r.payload),
        prev_hash=r.prev_hash,
        hash=r.hash,
        project=r.project,
    )
