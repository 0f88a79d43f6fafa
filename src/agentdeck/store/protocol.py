"""The one ``Store`` protocol every service is written against.

It is the union of small per-capability protocols, so a service can ask for only the part it
uses. :class:`agentdeck.store.sql.SqlStore` implements all of them on SQLite and PostgreSQL.
Every write that changes the registry or deployments takes an :class:`AuditEvent` and appends
it to the hash-chained audit log in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from agentdeck.core.access.projects import ProjectRecord
from agentdeck.core.access.records import ApiKeyRecord, SessionRecord
from agentdeck.core.annotations.records import (
    Annotation,
    DatasetCase,
    ItemStatus,
    QueueItem,
    QueueRecord,
)
from agentdeck.core.behaviour.records import (
    AlertRecord,
    BaselineRecord,
    FindingRecord,
    RunSummaryRow,
)
from agentdeck.core.cost import CostTotal
from agentdeck.core.deploy.audit_chain import AuditEntry
from agentdeck.core.deploy.canary import Canary, CanaryRun
from agentdeck.core.deploy.model import Deployment, GateConfig, Health
from agentdeck.core.evals.result import EvalResult
from agentdeck.core.policy.records import ApprovalRecord, PolicyTestRecord
from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.spec.artifacts import AgentVersion, AuditEvent, PolicyVersion
from agentdeck.core.trace.feedback import Feedback
from agentdeck.core.trace.model import Outcome, Run, Span
from agentdeck.core.trace.query import RunCount, RunQuery
from agentdeck.core.trace.records import ReplayReportRecord
from agentdeck.store.trace_reads import TraceReads

# The records are values of the core (their home); re-exported here for compatibility.
__all__ = [
    "AlertRecord",
    "AnnotationStore",
    "ApiKeyRecord",
    "ApprovalRecord",
    "AuditStore",
    "BaselineRecord",
    "DeploymentStore",
    "EvalStore",
    "FindingRecord",
    "KeyStore",
    "LifecycleStore",
    "MonitorStore",
    "PolicyStore",
    "PolicyTestRecord",
    "ProjectStore",
    "RegistryStore",
    "ReplayReportRecord",
    "ReplayStore",
    "RunQuery",
    "RunSummaryRow",
    "SessionRecord",
    "Store",
    "TraceReads",
    "TraceStore",
]


class RegistryStore(Protocol):
    def put_agent_version(
        self, spec: AgentSpec, actor: str, audit: AuditEvent, project: str = "default"
    ) -> tuple[AgentVersion, bool]:
        """Store ``spec`` as the next version of its name in ``project``; identical content
        returns the existing version and ``False`` (nothing written, nothing audited); a name
        another project owns raises :class:`~agentdeck.core.errors.OwnedElsewhere`."""
        ...

    def get_agent_version(self, name: str, version: int) -> AgentVersion | None: ...
    def get_agent_by_digest(
        self, digest_prefix: str, name: str | None = None
    ) -> list[AgentVersion]: ...
    def list_agent_versions(self, name: str) -> list[AgentVersion]: ...
    def list_agent_names(self, project: str | None = None) -> list[str]: ...
    def agent_project(self, name: str) -> str | None: ...
    def policy_project(self, name: str) -> str | None: ...

    def put_policy_version(
        self, policy: PolicySet, actor: str, audit: AuditEvent, project: str = "default"
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
        self,
        deployment: Deployment,
        expected_head_seq: int,
        audit: AuditEvent,
        retire: tuple[str, AuditEvent] | None = None,
    ) -> None:
        """Append ``deployment`` if the env head is still at ``expected_head_seq`` (0 = empty);
        raise :class:`ConflictError` if another writer moved it (compare-and-set). ``retire``
        marks that deployment id bad in the same transaction (a rollback's replaced head)."""
        ...

    def history(self, agent_name: str, env: str) -> list[Deployment]: ...
    def deployment(self, deployment_id: str) -> Deployment | None: ...
    def all_deployments(self) -> list[Deployment]:
        """Every deployment row (for ``audit verify``)."""
        ...

    def env_head_ids(self) -> list[tuple[str, str, str]]:
        """``(agent, env, deployment id)`` of every environment head."""
        ...

    def deployments_of_digest(self, agent_digest: str) -> list[Deployment]: ...
    def deployment_at(self, agent_name: str, env: str, at: datetime) -> Deployment | None: ...
    def set_health(self, deployment_id: str, health: Health, audit: AuditEvent) -> None: ...


class AuditStore(Protocol):
    def append_audit(self, event: AuditEvent) -> AuditEntry: ...
    def audit_entries(
        self, subject: str | None = None, action_prefix: str | None = None
    ) -> list[AuditEntry]: ...
    def audit_log(self, project: str, limit: int) -> list[AuditEntry]:
        """The newest ``limit`` entries of ``project`` and the server-wide ones, oldest first."""
        ...

    def audit_head(self) -> tuple[int, str] | None: ...


class TraceStore(TraceReads, Protocol):
    def write_batch(
        self, runs: Sequence[Run], spans: Sequence[Span], *, provisional: Sequence[Run] = ()
    ) -> None:
        """Idempotent by trace id (runs) and span id (spans): a re-sent record is stored once.

        One transaction. A real run is stored once and replaces a provisional run of its trace;
        ``provisional`` runs (derived from child spans only, :attr:`Run.provisional`) are
        inserted when their trace has no run, widen a provisional one, and leave a real one
        alone (:mod:`agentdeck.store.sql_traces`).
        """
        ...

    def find_runs(self, query: RunQuery) -> list[Run]:
        """Newest first (ties by trace id, descending), after ``query.after`` when given."""
        ...

    def count_runs(self, query: RunQuery, cap: int = 1000) -> RunCount:
        """Exact up to ``cap``, an estimate or a lower bound beyond (:class:`RunCount`)."""
        ...

    def get_runs_with_spans(self, trace_ids: Sequence[str]) -> list[tuple[Run, list[Span]]]: ...


# -- monitoring: run summaries, baselines, findings, alerts (migration 0004_monitor) ----------


class MonitorStore(Protocol):
    def put_run_summaries(self, rows: Sequence[RunSummaryRow]) -> None:
        """Idempotent by trace id (the first summary of a run wins)."""
        ...

    def iter_run_summaries(
        self,
        agent_name: str,
        env: str | None,
        since_ns: int | None,
        until_ns: int | None,
        agent_digest: str | None = None,
        trace_ids: Sequence[str] | None = None,
    ) -> Iterator[str]:
        """The summary JSON of matching runs, streamed in chunks."""
        ...

    def runs_without_summary(
        self,
        agent_name: str,
        env: str | None,
        since_ns: int | None,
        until_ns: int | None,
        agent_digest: str | None = None,
        trace_ids: Sequence[str] | None = None,
        limit: int = 1000,
    ) -> list[str]:
        """Trace ids of matching finished runs that have no summary yet."""
        ...

    def trace_ids_with_attribute(
        self, key: str, value: str, agent_name: str | None = None
    ) -> list[str]: ...

    def put_baseline(self, baseline: BaselineRecord) -> None:
        """Store a new baseline; raise :class:`ConflictError` if the name is taken."""
        ...

    def get_baseline(self, name: str) -> BaselineRecord | None: ...
    def list_baselines(self, agent_name: str | None = None) -> list[BaselineRecord]: ...
    def latest_baseline(self, agent_name: str, env: str | None) -> BaselineRecord | None:
        """The newest baseline of the agent for ``env``, else its newest env-less one."""
        ...

    def put_findings(self, rows: Sequence[FindingRecord]) -> None:
        """Idempotent by finding id."""
        ...

    def list_findings(
        self,
        agent_name: str | None = None,
        check: str | None = None,
        trace_id: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        project: str | None = None,
    ) -> list[FindingRecord]:
        """Newest first; ``project``: only of the agents that project sees (its own; for
        the default project also names no project registered, and no agent)."""
        ...

    def count_findings(
        self, check: str, since: datetime, until: datetime, severities: Sequence[str]
    ) -> list[tuple[str | None, str | None, int]]:
        """Findings of ``check`` in ``[since, until)`` per (agent, env)."""
        ...

    def put_alert(self, alert: AlertRecord) -> None: ...
    def update_alert(self, alert: AlertRecord) -> None: ...
    def get_alert(self, alert_id: str) -> AlertRecord | None:
        """By id or unique id prefix; ``None`` if nothing (or more than one) matches."""
        ...

    def list_alerts(
        self,
        statuses: Sequence[str] | None = None,
        rule: str | None = None,
        subject: str | None = None,
        limit: int = 200,
        project: str | None = None,
    ) -> list[AlertRecord]:
        """Newest first; ``project``: as :meth:`list_findings`."""
        ...


# -- policy enforcement: approvals and policy test results (migration 0003_policy) -----------


class PolicyStore(Protocol):
    def put_approval(self, request: ApprovalRecord) -> None: ...
    def get_approval(self, approval_id: str) -> ApprovalRecord | None: ...
    def list_approvals(
        self,
        status: str | None = None,
        limit: int = 100,
        due_by: datetime | None = None,
        project: str | None = None,
    ) -> list[ApprovalRecord]:
        """Newest first; with ``due_by``, only those whose ``expires_at`` is at or before it;
        ``project``: only of the agents that project sees."""
        ...

    def decide_approval(
        self,
        approval_id: str,
        status: str,
        actor: str,
        reason: str,
        at: datetime,
        audit: AuditEvent | None,
    ) -> ApprovalRecord:
        """Move a pending request to ``status`` (compare-and-set): raise
        :class:`UnresolvedReferenceError` if there is none, :class:`ConflictError` if it is decided."""
        ...

    def put_policy_test_result(self, record: PolicyTestRecord, audit: AuditEvent) -> None:
        """Store (replacing any earlier) the result for (policy digest, agent digest)."""
        ...

    def get_policy_test_result(
        self, policy_digest: str, agent_digest: str
    ) -> PolicyTestRecord | None: ...


# -- replay: stored replay reports (migration 0008_replay) ----------------------------------


class ReplayStore(Protocol):
    def put_replay_report(self, record: ReplayReportRecord) -> None: ...
    def get_replay_report(self, report_id: str) -> ReplayReportRecord | None: ...
    def list_replay_reports(
        self,
        *,
        source_trace_id: str | None = None,
        agent_name: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        project: str | None = None,
    ) -> list[ReplayReportRecord]:
        """Newest first, filtered by the replayed run, the agent name, the kind and the
        project (of the agents it sees)."""
        ...


class EvalStore(Protocol):
    def put_eval_result(self, result: EvalResult, audit: AuditEvent) -> None:
        """Store a suite run and its case results (audited in the same transaction)."""
        ...

    def get_eval_result(self, result_id: str) -> EvalResult | None: ...
    def eval_results(
        self,
        *,
        agent_digest: str | None = None,
        agent_name: str | None = None,
        suite_name: str | None = None,
        limit: int = 20,
        project: str | None = None,
    ) -> list[EvalResult]:
        """Newest first, filtered by the exact agent digest, the agent name, the suite and the
        project (of the agents it sees)."""
        ...


@runtime_checkable
class FeedbackStore(Protocol):
    def put_feedback(self, item: Feedback, audit: AuditEvent) -> bool:
        """Store feedback, set the run's outcome if none is known (returns whether it did),
        and append ``audit``, in one transaction."""
        ...

    def list_feedback(self, trace_id: str) -> list[Feedback]: ...


@runtime_checkable
class CanaryStore(Protocol):
    def put_canary(self, canary: Canary, audit: AuditEvent) -> None:
        """Insert a new canary (ConflictError if one is active on its agent and env)."""
        ...

    def update_canary(
        self, canary: Canary, expected_version: int, audit: Sequence[AuditEvent]
    ) -> None:
        """Compare-and-set on ``version``; ``audit`` appended in the same transaction."""
        ...

    def get_canary(self, canary_id: str) -> Canary | None: ...
    def active_canary(self, agent_name: str, env: str) -> Canary | None: ...
    def active_canaries(self) -> list[Canary]: ...
    def list_canaries(self, agent_name: str, env: str, limit: int = 20) -> list[Canary]: ...
    def canary_runs(self, canary: Canary) -> list[CanaryRun]: ...
    def runs_by_id(self, trace_ids: Sequence[str]) -> list[CanaryRun]: ...
    def shadow_sources(self, canary: Canary, limit: int = 5000) -> list[str]: ...
    def tool_sequences(self, trace_ids: Sequence[str]) -> dict[str, list[str]]: ...


class AnnotationStore(Protocol):
    """Human review and datasets (migration 0019_annotations; :mod:`agentdeck.store.sql_annotations`)."""

    def put_queue(
        self, queue: QueueRecord, trace_ids: Sequence[str], audit: AuditEvent
    ) -> None: ...
    def get_queue(self, id_or_name: str) -> QueueRecord | None: ...
    def list_queues(self) -> list[QueueRecord]: ...
    def queue_items(self, queue_id: str) -> list[QueueItem]: ...
    def set_item_status(self, queue_id: str, trace_id: str, status: ItemStatus) -> bool: ...
    def put_annotation(
        self, item: Annotation, feedback_: Feedback, outcome: Outcome | None, audit: AuditEvent
    ) -> bool: ...
    def list_annotations(
        self,
        *,
        trace_id: str | None = None,
        queue_id: str | None = None,
        agent_digest: str | None = None,
        limit: int = 1000,
    ) -> list[Annotation]: ...
    def put_dataset_case(self, case: DatasetCase, audit: AuditEvent) -> None: ...
    def dataset_cases(self, suite: str) -> list[DatasetCase]: ...
    def dataset_names(self) -> list[tuple[str, int]]: ...
    def drop_span_payloads(
        self, trace_ids: Sequence[str], fraction: float, at: datetime
    ) -> int: ...
    def sampling_view(self, trace_ids: Sequence[str]) -> list[Run]: ...
    def sampled_out(self, trace_ids: Sequence[str]) -> set[str]: ...


@runtime_checkable
class LifecycleStore(Protocol):
    def delete_runs(self, trace_ids: Sequence[str], audit: AuditEvent | None) -> dict[str, int]:
        """Delete those runs and everything stored of them, appending ``audit`` (with the
        counts per table added) in the same transaction; the counts."""
        ...


@runtime_checkable
class CostStore(Protocol):
    def cost_totals(
        self,
        group_by: str,
        *,
        agent_name: str | None = None,
        agent_digest: str | None = None,
        env: str | None = None,
        since_ns: int | None = None,
        until_ns: int | None = None,
        limit: int = 1000,
        project: str | None = None,
    ) -> list[CostTotal]:
        """Tokens and cost summed over runs per group (:data:`agentdeck.core.cost.COST_GROUPS`)."""
        ...

    def unpriced_spans(
        self, after: tuple[str, str] | None = None, limit: int = 1000
    ) -> list[Span]: ...
    def set_span_costs(self, costs: Sequence[tuple[str, str, float]]) -> int: ...


class ProjectStore(Protocol):
    def create_project(self, name: str, actor: str, audit: AuditEvent) -> ProjectRecord:
        """Create a project (audited); an existing name raises ConflictError."""
        ...

    def get_project(self, name: str) -> ProjectRecord | None: ...
    def list_projects(self) -> list[ProjectRecord]: ...
    def run_projects(self, trace_ids: Sequence[str]) -> dict[str, str]:
        """The project of each stored run among ``trace_ids``; unknown ids left out."""
        ...


class Store(
    RegistryStore,
    ProjectStore,
    DeploymentStore,
    AuditStore,
    TraceStore,
    MonitorStore,
    PolicyStore,
    ReplayStore,
    EvalStore,
    FeedbackStore,
    CanaryStore,
    AnnotationStore,
    CostStore,
    Protocol,
):
    """Everything agentdeck persists."""

    def close(self) -> None: ...


# -- server: API keys -----------------------------------------------------------------------


class KeyStore(Protocol):
    def put_api_key(self, key: ApiKeyRecord, audit: AuditEvent) -> None:
        """Store a new key; raise :class:`ConflictError` if its id or name is taken."""
        ...

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...
    def list_api_keys(self) -> list[ApiKeyRecord]: ...
    def get_project(self, name: str) -> ProjectRecord | None: ...
    def revoke_api_key(self, id_or_name: str, at: datetime, audit: AuditEvent) -> ApiKeyRecord:
        """Mark a key revoked (idempotent), and every UI session of it; raise
        :class:`UnresolvedReferenceError` if there is none."""
        ...

    def put_session(self, session: SessionRecord) -> None: ...
    def get_session(self, token_hash: str) -> SessionRecord | None: ...
    def touch_session(self, token_hash: str, at: datetime) -> None:
        """Record a use of the session (its idle timeout restarts)."""
        ...

    def revoke_session(self, token_hash: str, at: datetime) -> None: ...
