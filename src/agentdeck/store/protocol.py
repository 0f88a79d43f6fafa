"""The one ``Store`` protocol every service is written against.

It is the union of small per-capability protocols, so a service can ask for only the part it
uses. :class:`agentdeck.store.sql.SqlStore` implements all of them on SQLite and PostgreSQL.
Every write that changes the registry or deployments takes an :class:`AuditEvent` and appends
it to the hash-chained audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from agentdeck.core.artifacts import AgentVersion, AuditEvent, PolicyVersion
from agentdeck.core.audit import AuditEntry
from agentdeck.core.deploy import Deployment, GateConfig, Health
from agentdeck.core.policy_spec import PolicySet
from agentdeck.core.spec import AgentSpec
from agentdeck.core.trace import Run, Span, SpanStatus


class RegistryStore(Protocol):
    def put_agent_version(
        self, spec: AgentSpec, actor: str, audit: AuditEvent
    ) -> tuple[AgentVersion, bool]:
        """Store ``spec`` as the next version of its name; identical content returns the
        existing version and ``False`` (nothing written, nothing audited)."""
        ...

    def get_agent_version(self, name: str, version: int) -> AgentVersion | None: ...
    def get_agent_by_digest(
        self, digest_prefix: str, name: str | None = None
    ) -> list[AgentVersion]: ...
    def list_agent_versions(self, name: str) -> list[AgentVersion]: ...
    def list_agent_names(self) -> list[str]: ...

    def put_policy_version(
        self, policy: PolicySet, actor: str, audit: AuditEvent
    ) -> tuple[PolicyVersion, bool]: ...
    def get_policy_version(self, name: str, version: int) -> PolicyVersion | None: ...
    def get_policy_by_digest(self, digest: str) -> PolicyVersion | None: ...
    def list_policy_versions(self, name: str) -> list[PolicyVersion]: ...


class DeploymentStore(Protocol):
    def get_promotion_path(self) -> tuple[str, ...]: ...
    def set_promotion_path(self, envs: Sequence[str], audit: AuditEvent) -> None: ...
    def get_gate_config(self, env: str) -> GateConfig: ...
    def set_gate_config(self, config: GateConfig, audit: AuditEvent) -> None: ...

    def head(self, agent_name: str, env: str) -> Deployment | None: ...
    def append_deployment(
        self, deployment: Deployment, expected_head_seq: int, audit: AuditEvent
    ) -> None:
        """Append ``deployment`` if the env head is still at ``expected_head_seq`` (0 = empty);
        raise :class:`ConflictError` if another writer moved it (compare-and-set)."""
        ...

    def history(self, agent_name: str, env: str) -> list[Deployment]: ...
    def deployment(self, deployment_id: str) -> Deployment | None: ...
    def deployments_of_digest(self, agent_digest: str) -> list[Deployment]: ...
    def deployment_at(self, agent_name: str, env: str, at: datetime) -> Deployment | None: ...
    def set_health(self, deployment_id: str, health: Health, audit: AuditEvent) -> None: ...


class AuditStore(Protocol):
    def append_audit(self, event: AuditEvent) -> AuditEntry: ...
    def audit_entries(self) -> list[AuditEntry]: ...
    def audit_head(self) -> tuple[int, str] | None: ...


@dataclass(frozen=True)
class RunQuery:
    """Filters for :meth:`SqlTraces.find_runs`; every field is optional. Times in ns since epoch."""

    agent_name: str | None = None
    agent_version: int | None = None
    agent_digest: str | None = None
    env: str | None = None
    status: SpanStatus | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    tool: str | None = None
    limit: int = 100
    offset: int = 0



class TraceStore(Protocol):
    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        """Idempotent by trace id (runs) and span id (spans): a re-sent record is stored once."""
        ...

    def get_run(self, trace_id: str) -> Run | None: ...
    def get_spans(self, trace_id: str) -> list[Span]: ...
    def find_runs(self, query: RunQuery) -> list[Run]: ...
    def trace_ids_with_prefix(self, prefix: str, limit: int = 3) -> list[str]: ...


@runtime_checkable
class Store(RegistryStore, DeploymentStore, AuditStore, TraceStore, Protocol):
    """Everything agentdeck persists."""

    def close(self) -> None: ...
