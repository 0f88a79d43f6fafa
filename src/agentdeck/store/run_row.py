"""A stored ``runs`` row as a :class:`Run`: one conversion for the SQL store, the ClickHouse
store and the CLI's SQLite read paths (:mod:`.lite_run_list`, :mod:`.lite_traces`); no
SQLAlchemy."""

from __future__ import annotations

from typing import Any

import orjson

from agentdeck.core.trace.model import Outcome, Run, SpanStatus

__all__ = ["row_run"]


def _l(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def row_run(r: Any) -> Run:
    """``r``: any row whose columns are attributes (a SQLAlchemy ``Row``, a namespace)."""
    return Run(
        trace_id=r.trace_id,
        agent_name=r.agent_name,
        agent_version=r.agent_version,
        agent_digest=r.agent_digest,
        env=r.env,
        deployment_id=r.deployment_id,
        start_ns=int(r.start_ns),
        end_ns=None if r.end_ns is None else int(r.end_ns),
        status=SpanStatus(r.status),
        error=r.error,
        input=_l(r.input),
        output=_l(r.output),
        root_span_id=r.root_span_id,
        attributes=_l(r.attributes) or {},
        tool_errors=int(r.tool_errors or 0),
        denied_calls=int(r.denied_calls or 0),
        outcome=Outcome(r.outcome) if r.outcome else None,
        outcome_score=None if r.outcome_score is None else float(r.outcome_score),
        outcome_reason=r.outcome_reason,
        session_id=r.session_id,
        user_id=r.user_id,
        canary_arm=getattr(r, "canary_arm", None),
        input_tokens=int(getattr(r, "input_tokens", 0) or 0),
        output_tokens=int(getattr(r, "output_tokens", 0) or 0),
        cost_usd=_cost(r),
        unpriced_calls=int(getattr(r, "unpriced_calls", 0) or 0),
        project=getattr(r, "project", None) or "default",
    )


def _cost(r: Any) -> float | None:
    cost = getattr(r, "cost_usd", 0.0)
    return None if cost is None else float(cost)
