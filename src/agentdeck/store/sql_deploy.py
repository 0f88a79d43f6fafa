"""Environments, gate settings and the append-only deployment history in SQL.

The env head row ``env_heads(agent_name, env)`` is moved by compare-and-set
(``UPDATE ... WHERE seq = expected``); the ``(agent_name, env, seq)`` unique key backs it up,
so two writers can never both append the same position: one gets :class:`ConflictError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from agentdeck.core.deploy.model import DEFAULT_PATH, Deployment, GateConfig, Health
from agentdeck.core.errors import ConflictError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase
from agentdeck.store.deploy_row import deployment_row
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import deployments, env_heads, environments


class SqlDeployments(SqlBase):
    def get_promotion_path(self) -> tuple[str, ...]:
        with self._read() as conn:
            rows = conn.execute(select(environments.c.name).order_by(environments.c.position)).all()
        return tuple(r[0] for r in rows) or DEFAULT_PATH

    def set_promotion_path(self, envs: Sequence[str], audit: AuditEvent) -> None:
        with self._write() as conn:
            existing = {r.name: r for r in conn.execute(select(environments)).all()}
            conn.execute(delete(environments))
            for i, name in enumerate(envs):
                old = existing.get(name)
                conn.execute(
                    insert(environments).values(
                        name=name,
                        position=i,
                        gates=old.gates if old else "{}",
                        disabled=old.disabled if old else "[]",
                    )
                )
            append_audit_in(conn, audit)

    def get_gate_config(self, env: str) -> GateConfig:
        with self._read() as conn:
            row = conn.execute(select(environments).where(environments.c.name == env)).first()
        if row is None:
            return GateConfig(env=env)
        return GateConfig(
            env=env, settings=orjson.loads(row.gates), disabled=tuple(orjson.loads(row.disabled))
        )

    def set_gate_config(self, config: GateConfig, audit: AuditEvent) -> None:
        with self._write() as conn:
            if conn.execute(select(environments.c.name)).first() is None:
                for i, name in enumerate(DEFAULT_PATH):
                    conn.execute(
                        insert(environments).values(
                            name=name, position=i, gates="{}", disabled="[]"
                        )
                    )
            res = conn.execute(
                update(environments)
                .where(environments.c.name == config.env)
                .values(
                    gates=orjson.dumps(dict(config.settings)).decode(),
                    disabled=orjson.dumps(list(config.disabled)).decode(),
                )
            )
            if res.rowcount == 0:
                raise ConflictError(f"environment {config.env!r} is not on the promotion path")
            append_audit_in(conn, audit)

    def head(self, agent_name: str, env: str) -> Deployment | None:
        with self._read() as conn:
            row = conn.execute(
                select(deployments)
                .join(env_heads, env_heads.c.deployment_id == deployments.c.id)
                .where(env_heads.c.agent_name == agent_name, env_heads.c.env == env)
            ).first()
        return deployment_row(row) if row else None

    def append_deployment(
        self,
        deployment: Deployment,
        expected_head_seq: int,
        audit: AuditEvent,
        retire: tuple[str, AuditEvent] | None = None,
    ) -> None:
        d = deployment
        try:
            with self._write() as conn:
                if expected_head_seq == 0:
                    conn.execute(
                        insert(env_heads).values(
                            agent_name=d.agent_name, env=d.env, seq=d.seq, deployment_id=d.id
                        )
                    )
                else:
                    res = conn.execute(
                        update(env_heads)
                        .where(
                            env_heads.c.agent_name == d.agent_name,
                            env_heads.c.env == d.env,
                            env_heads.c.seq == expected_head_seq,
                        )
                        .values(seq=d.seq, deployment_id=d.id)
                    )
                    if res.rowcount != 1:
                        raise ConflictError(
                            f"{d.agent_name}@{d.env}: the environment head moved (expected position {expected_head_seq})"
                        )
                conn.execute(
                    insert(deployments).values(
                        id=d.id,
                        agent_name=d.agent_name,
                        env=d.env,
                        seq=d.seq,
                        agent_digest=d.agent_digest,
                        agent_version=d.agent_version,
                        policy_digest=d.policy_digest,
                        action=d.action.value,
                        actor=d.actor,
                        reason=d.reason,
                        at=d.at,
                        previous_id=d.previous_id,
                        health=d.health.value,
                        forced=d.forced,
                    )
                )
                append_audit_in(conn, audit)
                if retire is not None:
                    retired_id, retire_audit = retire
                    conn.execute(
                        update(deployments)
                        .where(deployments.c.id == retired_id)
                        .values(health=Health.BAD.value)
                    )
                    append_audit_in(conn, retire_audit)
        except IntegrityError:
            raise ConflictError(
                f"{d.agent_name}@{d.env}: a concurrent deployment took position {d.seq}"
            ) from None

    def all_deployments(self) -> list[Deployment]:
        with self._read() as conn:
            rows = conn.execute(
                select(deployments).order_by(
                    deployments.c.agent_name, deployments.c.env, deployments.c.seq
                )
            ).all()
        return [deployment_row(r) for r in rows]

    def env_head_ids(self) -> list[tuple[str, str, str]]:
        with self._read() as conn:
            rows = conn.execute(
                select(env_heads.c.agent_name, env_heads.c.env, env_heads.c.deployment_id)
            ).all()
        return [(r.agent_name, r.env, r.deployment_id) for r in rows]

    def history(self, agent_name: str, env: str) -> list[Deployment]:
        with self._read() as conn:
            rows = conn.execute(
                select(deployments)
                .where(deployments.c.agent_name == agent_name, deployments.c.env == env)
                .order_by(deployments.c.seq)
            ).all()
        return [deployment_row(r) for r in rows]

    def deployment(self, deployment_id: str) -> Deployment | None:
        with self._read() as conn:
            row = conn.execute(select(deployments).where(deployments.c.id == deployment_id)).first()
        return deployment_row(row) if row else None

    def deployments_of_digest(self, agent_digest: str) -> list[Deployment]:
        with self._read() as conn:
            rows = conn.execute(
                select(deployments)
                .where(deployments.c.agent_digest == agent_digest)
                .order_by(deployments.c.at)
            ).all()
        return [deployment_row(r) for r in rows]

    def deployment_at(self, agent_name: str, env: str, at: datetime) -> Deployment | None:
        with self._read() as conn:
            row = conn.execute(
                select(deployments)
                .where(
                    deployments.c.agent_name == agent_name,
                    deployments.c.env == env,
                    deployments.c.at <= at,
                )
                .order_by(deployments.c.seq.desc())
                .limit(1)
            ).first()
        return deployment_row(row) if row else None

    def set_health(self, deployment_id: str, health: Health, audit: AuditEvent) -> None:
        with self._write() as conn:
            res = conn.execute(
                update(deployments)
                .where(deployments.c.id == deployment_id)
                .values(health=health.value)
            )
            if res.rowcount != 1:
                raise ConflictError(f"deployment {deployment_id!r} does not exist")
            append_audit_in(conn, audit)
