"""Policy enforcement in SQL: approval requests (pending until granted, denied or expired) and
policy test results per (policy digest, agent digest).

An approval is decided by a compare-and-set on its ``pending`` status, so two approvers (or an
approver and the waiting agent's timeout) can never both decide it; the grant or refusal is
audited in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Row

from agentdeck.core.errors import ConflictError, UnresolvedReferenceError
from agentdeck.core.policy.records import ApprovalRecord, PolicyTestRecord
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.project_clause import agent_of_project
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables_policy import approvals, policy_test_results


def _approval(row: Row[Any]) -> ApprovalRecord:
    return ApprovalRecord(
        id=row.id,
        status=row.status,
        tool=row.tool,
        args=orjson.loads(row.args),
        agent_name=row.agent_name,
        agent_version=row.agent_version,
        agent_digest=row.agent_digest,
        env=row.env,
        policy_name=row.policy_name,
        policy_version=row.policy_version,
        policy_digest=row.policy_digest,
        rules=tuple(orjson.loads(row.rules)),
        message=row.message,
        trace_id=row.trace_id,
        span_id=row.span_id,
        requested_at=as_utc(row.requested_at),
        expires_at=as_utc(row.expires_at),
        decided_at=as_utc(row.decided_at) if row.decided_at is not None else None,
        decided_by=row.decided_by,
        reason=row.reason,
        requested_by=row.requested_by,
    )


def _test_record(row: Row[Any]) -> PolicyTestRecord:
    return PolicyTestRecord(
        policy_digest=row.policy_digest,
        agent_digest=row.agent_digest,
        policy_ref=row.policy_ref,
        agent_ref=row.agent_ref,
        total=row.total,
        failed=row.failed,
        results=tuple(orjson.loads(row.results)),
        ran_at=as_utc(row.ran_at),
        ran_by=row.ran_by,
    )


class SqlPolicy(SqlBase):
    def put_approval(self, request: ApprovalRecord) -> None:
        with self._write() as conn:
            conn.execute(
                insert(approvals).values(
                    id=request.id,
                    status=request.status,
                    tool=request.tool,
                    args=orjson.dumps(request.args, default=str).decode(),
                    agent_name=request.agent_name,
                    agent_version=request.agent_version,
                    agent_digest=request.agent_digest,
                    env=request.env,
                    policy_name=request.policy_name,
                    policy_version=request.policy_version,
                    policy_digest=request.policy_digest,
                    rules=orjson.dumps(list(request.rules)).decode(),
                    message=request.message,
                    trace_id=request.trace_id,
                    span_id=request.span_id,
                    requested_at=request.requested_at,
                    expires_at=request.expires_at,
                    decided_at=request.decided_at,
                    decided_by=request.decided_by,
                    reason=request.reason,
                    requested_by=request.requested_by,
                )
            )

    def get_approval(self, approval_id: str) -> ApprovalRecord | None:
        with self._read() as conn:
            row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
        return _approval(row) if row else None

    def list_approvals(
        self,
        status: str | None = None,
        limit: int = 100,
        due_by: datetime | None = None,
        project: str | None = None,
    ) -> list[ApprovalRecord]:
        q = select(approvals).order_by(approvals.c.requested_at.desc()).limit(limit)
        if project is not None:
            q = q.where(agent_of_project(approvals.c.agent_name, project))
        if status is not None:
            q = q.where(approvals.c.status == status)
        if due_by is not None:  # in UTC: SQLite compares the stored (UTC) text
            q = q.where(approvals.c.expires_at <= as_utc(due_by))
        with self._read() as conn:
            rows = conn.execute(q).all()
        return [_approval(r) for r in rows]

    def decide_approval(
        self,
        approval_id: str,
        status: str,
        actor: str,
        reason: str,
        at: datetime,
        audit: AuditEvent | None,
    ) -> ApprovalRecord:
        with self._write() as conn:
            row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).first()
            if row is None:
                raise UnresolvedReferenceError(approval_id, "no approval request with that id")
            done = conn.execute(
                update(approvals)
                .where(approvals.c.id == approval_id, approvals.c.status == "pending")
                .values(status=status, decided_at=at, decided_by=actor, reason=reason)
            )
            if done.rowcount != 1:
                raise ConflictError(
                    f"approval {approval_id}: already {row.status}"
                    + (f" by {row.decided_by}" if row.decided_by else "")
                )
            if audit is not None:
                append_audit_in(conn, audit)
            row = conn.execute(select(approvals).where(approvals.c.id == approval_id)).one()
        return _approval(row)

    def put_policy_test_result(self, record: PolicyTestRecord, audit: AuditEvent) -> None:
        key = (
            policy_test_results.c.policy_digest == record.policy_digest,
            policy_test_results.c.agent_digest == record.agent_digest,
        )
        with self._write() as conn:
            conn.execute(delete(policy_test_results).where(*key))
            conn.execute(
                insert(policy_test_results).values(
                    policy_digest=record.policy_digest,
                    agent_digest=record.agent_digest,
                    policy_ref=record.policy_ref,
                    agent_ref=record.agent_ref,
                    total=record.total,
                    failed=record.failed,
                    results=orjson.dumps(list(record.results)).decode(),
                    ran_at=record.ran_at,
                    ran_by=record.ran_by,
                )
            )
            append_audit_in(conn, audit)

    def get_policy_test_result(
        self, policy_digest: str, agent_digest: str
    ) -> PolicyTestRecord | None:
        with self._read() as conn:
            row = conn.execute(
                select(policy_test_results).where(
                    policy_test_results.c.policy_digest == policy_digest,
                    policy_test_results.c.agent_digest == agent_digest,
                )
            ).first()
        return _test_record(row) if row else None
