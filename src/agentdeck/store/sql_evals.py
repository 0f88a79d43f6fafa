"""Eval results in SQL: a suite run and its cases written in one audited transaction."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection, Row

from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.project_clause import agent_of_project
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables_evals import eval_case_results, eval_results


def _dumps(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _cases(conn: Connection, result_id: str) -> tuple[CaseResult, ...]:
    rows = conn.execute(
        select(eval_case_results)
        .where(eval_case_results.c.result_id == result_id)
        .order_by(eval_case_results.c.position)
    ).all()
    return tuple(
        CaseResult(
            case_id=r.case_id,
            passed=bool(r.passed),
            reasons=tuple(orjson.loads(r.reasons)),
            trace_id=r.trace_id,
            steps=int(r.steps),
            duration_ms=float(r.duration_ms),
            output=None if r.output is None else orjson.loads(r.output),
            error=r.error,
        )
        for r in rows
    )


def _result(conn: Connection, r: Row[Any]) -> EvalResult:
    return EvalResult(
        id=r.id,
        suite_name=r.suite_name,
        suite_digest=r.suite_digest,
        agent_name=r.agent_name,
        agent_version=int(r.agent_version),
        agent_digest=r.agent_digest,
        created_at=as_utc(r.created_at),
        created_by=r.created_by,
        cases=_cases(conn, r.id),
        duration_ms=float(r.duration_ms),
    )


class SqlEvals(SqlBase):
    def put_eval_result(self, result: EvalResult, audit: AuditEvent) -> None:
        with self._write() as conn:
            conn.execute(
                insert(eval_results).values(
                    id=result.id,
                    suite_name=result.suite_name,
                    suite_digest=result.suite_digest,
                    agent_name=result.agent_name,
                    agent_version=result.agent_version,
                    agent_digest=result.agent_digest,
                    created_at=result.created_at,
                    created_by=result.created_by,
                    total=result.total,
                    passed=result.passed,
                    duration_ms=result.duration_ms,
                )
            )
            if result.cases:
                conn.execute(
                    insert(eval_case_results),
                    [
                        {
                            "result_id": result.id,
                            "position": i,
                            "case_id": c.case_id,
                            "passed": c.passed,
                            "reasons": _dumps(list(c.reasons)),
                            "trace_id": c.trace_id,
                            "steps": c.steps,
                            "duration_ms": c.duration_ms,
                            "output": None if c.output is None else _dumps(c.output),
                            "error": c.error,
                        }
                        for i, c in enumerate(result.cases)
                    ],
                )
            append_audit_in(conn, audit)

    def get_eval_result(self, result_id: str) -> EvalResult | None:
        with self._read() as conn:
            row = conn.execute(select(eval_results).where(eval_results.c.id == result_id)).first()
            return _result(conn, row) if row else None

    def eval_results(
        self,
        *,
        agent_digest: str | None = None,
        agent_name: str | None = None,
        suite_name: str | None = None,
        limit: int = 20,
        project: str | None = None,
    ) -> list[EvalResult]:
        q = select(eval_results)
        c = eval_results.c
        if project is not None:
            q = q.where(agent_of_project(c.agent_name, project))
        if agent_digest is not None:
            q = q.where(c.agent_digest == agent_digest)
        if agent_name is not None:
            q = q.where(c.agent_name == agent_name)
        if suite_name is not None:
            q = q.where(c.suite_name == suite_name)
        q = q.order_by(c.created_at.desc(), c.id).limit(limit)
        with self._read() as conn:
            return [_result(conn, r) for r in conn.execute(q).all()]
