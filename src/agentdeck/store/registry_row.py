"""Stored ``agent_versions`` and ``policy_versions`` rows as records: one conversion each for the
SQL store (:mod:`.sql_registry`) and the CLI's read-only SQLite path (:mod:`.lite_registry`);
no SQLAlchemy. The stored JSON is read with the standard library's ``json`` (orjson, with
the ``uuid`` and ``platform`` it imports, is start-up time a text command does not need)."""

from __future__ import annotations

import json
from typing import Any

from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.spec.artifacts import AgentVersion, PolicyVersion
from agentdeck.store.utc import as_utc

__all__ = ["agent_row", "policy_row"]


def agent_row(row: Any) -> AgentVersion:
    """``row``: any row whose columns are attributes (a SQLAlchemy ``Row``, a namespace)."""
    return AgentVersion(
        name=row.name,
        version=int(row.version),
        digest=row.digest,
        spec=AgentSpec.from_dict(json.loads(row.spec)),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )


def policy_row(row: Any) -> PolicyVersion:
    return PolicyVersion(
        name=row.name,
        version=int(row.version),
        digest=row.digest,
        policy=PolicySet.from_dict(json.loads(row.spec)),
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
    )
