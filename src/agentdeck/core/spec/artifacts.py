"""Registered artifacts: an agent version and a policy version as stored in the registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import AgentSpec


@dataclass(frozen=True)
class AgentVersion:
    name: str
    version: int
    digest: str
    spec: AgentSpec
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class PolicyVersion:
    name: str
    version: int
    digest: str
    policy: PolicySet
    created_at: datetime
    created_by: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True)
class AuditEvent:
    """What a service asks the store to append to the audit chain, in the same transaction.

    ``project``: the project whose records the entry is about (the agent's for a deployment,
    the run's for feedback), or :data:`~agentdeck.core.access.projects.SERVER_WIDE`. The store
    writes it into the hashed payload (``payload["project"]``, left out for the default
    project, as before projects) and into the indexed column the audit log is read by."""

    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    project: str = DEFAULT_PROJECT
