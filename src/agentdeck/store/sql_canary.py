"""Canaries in SQL: the row (compare-and-set on ``version``), its audit entries in the same
transaction, and the reads the judgement needs (a canary's runs of both arms, their feedback
and tool sequences).

At most one canary is active per agent and env: the partial unique index
``ux_canaries_active`` refuses a second one (:class:`ConflictError`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from agentdeck.core.deploy.canary import Canary, CanaryRun, CanaryState, canary_config
from agentdeck.core.errors import ConflictError
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store.base import SqlBase, as_utc
from agentdeck.store.sql_audit import append_audit_in
from agentdeck.store.tables import runs, spans
from agentdeck.store.tables_canary import ACTIVE_STATES, canaries
from agentdeck.store.tables_feedback import feedback

_SHARE_KEY = "agentdeck.canary.share"
_SHADOW_OF_KEY = "replay.of"  # a shadow run is a replay of the stable run it shadows
_CHUNK = 500


def _values(c: Canary) -> dict[str, Any]:
    return {
        "id": c.id,
        "agent_name": c.agent_name,
        "env": c.env,
        "candidate_digest": c.candidate_digest,
        "candidate_version": c.candidate_version,
        "stable_deployment_id": c.stable_deployment_id,
        "stable_digest": c.stable_digest,
        "stable_version": c.stable_version,
        "config": orjson.dumps(c.config.to_dict()).decode(),
        "step": c.step,
        "share": c.share,
        "state": c.state.value,
        "shadow": c.shadow,
        "actor": c.actor,
        "reason": c.reason,
        "started_at": c.started_at,
        "step_started_at": c.step_started_at,
        "updated_at": c.updated_at,
        "version": c.version,
        "judgement": orjson.dumps(dict(c.judgement)).decode(),
    }


def _canary(r: Row[Any]) -> Canary:
    return Canary(
        id=r.id,
        agent_name=r.agent_name,
        env=r.env,
        candidate_digest=r.candidate_digest,
        candidate_version=int(r.candidate_version),
        stable_deployment_id=r.stable_deployment_id,
        stable_digest=r.stable_digest,
        stable_version=int(r.stable_version),
        config=canary_config(orjson.loads(r.config), "stored canary config"),
        step=int(r.step),
        share=float(r.share),
        state=CanaryState(r.state),
        shadow=bool(r.shadow),
        actor=r.actor,
        reason=r.reason,
        started_at=as_utc(r.started_at),
        step_started_at=as_utc(r.step_started_at),
        updated_at=as_utc(r.updated_at),
        version=int(r.version),
        judgement=orjson.loads(r.judgement),
    )


def _share(attributes: str | None) -> float | None:
    if not attributes or _SHARE_KEY not in attributes:
        return None
    try:
        v = orjson.loads(attributes).get(_SHARE_KEY)
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _shadow_of(arm: str | None, attributes: str | None) -> str | None:
    if arm != "shadow" or not attributes:
        return None
    try:
        v = orjson.loads(attributes).get(_SHADOW_OF_KEY)
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return v if isinstance(v, str) else None


class SqlCanaries(SqlBase):
    def put_canary(self, canary: Canary, audit: AuditEvent) -> None:
        try:
            with self._write() as conn:
                conn.execute(insert(canaries).values(**_values(canary)))
                append_audit_in(conn, audit)
        except IntegrityError:
            raise ConflictError(
                f"{canary.agent_name}@{canary.env}: a canary is already in progress there"
            ) from None

    def update_canary(
        self, canary: Canary, expected_version: int, audit: Sequence[AuditEvent]
    ) -> None:
        """Replace the row if it is still at ``expected_version`` (else ConflictError)."""
        with self._write() as conn:
            res = conn.execute(
                update(canaries)
                .where(canaries.c.id == canary.id, canaries.c.version == expected_version)
                .values(**{k: v for k, v in _values(canary).items() if k != "id"})
            )
            if res.rowcount != 1:
                raise ConflictError(f"canary {canary.id}: changed concurrently; try again")
            for event in audit:
                append_audit_in(conn, event)

    def get_canary(self, canary_id: str) -> Canary | None:
        with self._read() as conn:
            row = conn.execute(select(canaries).where(canaries.c.id == canary_id)).first()
        return _canary(row) if row else None

    def active_canary(self, agent_name: str, env: str) -> Canary | None:
        with self._read() as conn:
            row = conn.execute(
                select(canaries).where(
                    canaries.c.agent_name == agent_name,
                    canaries.c.env == env,
                    canaries.c.state.in_(ACTIVE_STATES),
                )
            ).first()
        return _canary(row) if row else None

    def active_canaries(self) -> list[Canary]:
        with self._read() as conn:
            rows = conn.execute(
                select(canaries)
                .where(canaries.c.state.in_(ACTIVE_STATES))
                .order_by(canaries.c.started_at)
            ).all()
        return [_canary(r) for r in rows]

    def list_canaries(self, agent_name: str, env: str, limit: int = 20) -> list[Canary]:
        """Newest first."""
        with self._read() as conn:
            rows = conn.execute(
                select(canaries)
                .where(canaries.c.agent_name == agent_name, canaries.c.env == env)
                .order_by(canaries.c.started_at.desc())
                .limit(limit)
            ).all()
        return [_canary(r) for r in rows]

    def canary_runs(self, canary: Canary) -> list[CanaryRun]:
        """The finished runs of both arms (and shadow runs) since the canary started, in
        start order."""
        since = int(canary.started_at.timestamp() * 1e9)
        return self._canary_rows(
            runs.c.deployment_id.in_([canary.id, canary.stable_deployment_id]),
            runs.c.start_ns >= since,
            runs.c.canary_arm.is_not(None),
        )

    def runs_by_id(self, trace_ids: Sequence[str]) -> list[CanaryRun]:
        """The finished runs among ``trace_ids`` as the judgement reads them, in start order."""
        out: list[CanaryRun] = []
        for i in range(0, len(trace_ids), _CHUNK):
            out += self._canary_rows(runs.c.trace_id.in_(list(trace_ids[i : i + _CHUNK])))
        return sorted(out, key=lambda r: (r.start_ns, r.trace_id))

    def shadow_sources(self, canary: Canary, limit: int = 5000) -> list[str]:
        """Trace ids of the stable deployment's finished runs since a shadow started, with no
        arm (users' runs: a shadow attaches no split), oldest first."""
        since = int(canary.started_at.timestamp() * 1e9)
        q = (
            select(runs.c.trace_id)
            .where(
                runs.c.deployment_id == canary.stable_deployment_id,
                runs.c.start_ns >= since,
                runs.c.canary_arm.is_(None),
                runs.c.end_ns.is_not(None),
            )
            .order_by(runs.c.start_ns, runs.c.trace_id)
            .limit(limit)
        )
        with self._read() as conn:
            return [r.trace_id for r in conn.execute(q).all()]

    def _canary_rows(self, *where: Any) -> list[CanaryRun]:
        cost = runs.c.get("cost_usd")  # the cost capability's column, when it is there
        cols = [
            runs.c.trace_id, runs.c.canary_arm, runs.c.start_ns, runs.c.end_ns, runs.c.status,
            runs.c.tool_errors, runs.c.denied_calls, runs.c.outcome, runs.c.outcome_score,
            runs.c.attributes,
        ]  # fmt: skip
        if cost is not None:
            cols.append(cost)
        q = (
            select(*cols)
            .where(*where, runs.c.end_ns.is_not(None))
            .order_by(runs.c.start_ns, runs.c.trace_id)
        )
        with self._read() as conn:
            rows = conn.execute(q).all()
            scores = self._feedback_means(conn, [r.trace_id for r in rows])
        return [
            CanaryRun(
                trace_id=r.trace_id,
                arm=r.canary_arm or "",
                share=_share(r.attributes),
                start_ns=int(r.start_ns),
                end_ns=None if r.end_ns is None else int(r.end_ns),
                error=r.status == "error",
                tool_errors=int(r.tool_errors or 0),
                denied_calls=int(r.denied_calls or 0),
                outcome=r.outcome,
                outcome_score=r.outcome_score,
                cost_usd=(None if (v := getattr(r, "cost_usd", None)) is None else float(v)),
                feedback=scores.get(r.trace_id),
                shadow_of=_shadow_of(r.canary_arm, r.attributes),
            )
            for r in rows
        ]

    @staticmethod
    def _feedback_means(conn: Any, trace_ids: Sequence[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for i in range(0, len(trace_ids), _CHUNK):
            part = trace_ids[i : i + _CHUNK]
            for tid, mean in conn.execute(
                select(feedback.c.trace_id, func.avg(feedback.c.score))
                .where(feedback.c.trace_id.in_(part), feedback.c.score.is_not(None))
                .group_by(feedback.c.trace_id)
            ).all():
                out[tid] = float(mean)
        return out

    def tool_sequences(self, trace_ids: Sequence[str]) -> dict[str, list[str]]:
        """Each run's tool calls in order (runs without one map to [])."""
        out: dict[str, list[str]] = {t: [] for t in trace_ids}
        with self._read() as conn:
            for i in range(0, len(trace_ids), _CHUNK):
                part = list(trace_ids[i : i + _CHUNK])
                for tid, tool in conn.execute(
                    select(spans.c.trace_id, spans.c.tool_name)
                    .where(spans.c.trace_id.in_(part), spans.c.kind == "tool")
                    .order_by(spans.c.trace_id, spans.c.start_ns, spans.c.seq)
                ).all():
                    out[tid].append(tool or "?")
        return out
