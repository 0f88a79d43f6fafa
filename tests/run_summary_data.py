"""Runs that say what happened, recorded through the SDK into a store, for the tests that show
or filter them (store, CLI, API, web UI).

:func:`record_runs` runs four agents with the SDK writing to ``store`` (its embedded-store
sink): ``clean`` (one tool call that works, outcome success 0.9), ``tool_err`` (its e-mail tool
raises and the agent carries on, outcome failure: one tool error), ``denied`` (a policy denies
its refund and the agent carries on: one tool error, denied) and ``raised`` (the agent's code raises out of the run). It then stores two
online-eval spans on ``tool_err``: one passing, one failing."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent, ToolSpec
from agentdeck.core.trace.model import LinkKind, Span, SpanKind, SpanLink, SpanStatus, new_span_id
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.guard import ToolCallInfo

NAMES = ("clean", "tool_err", "denied", "raised")


class ToolFailed(Exception):
    pass


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "email": "ada@example.com"}


@sdk.tool
def send_email(to: str) -> str:
    if not to:
        raise ToolFailed("invalid recipient ''")
    return "msg-1"


@sdk.tool
def issue_refund(amount: int) -> str:
    return f"refunded {amount}"


class NoBigRefunds:
    def check(self, call: ToolCallInfo) -> None:
        if call.tool == "issue_refund" and call.args.get("amount", 0) > 500:
            raise PolicyDenied(call.tool, ["refund-limit"], "refunds over 500 need approval")


def _agent() -> ResolvedAgent:
    tools = tuple(ToolSpec(n) for n in ("lookup_order", "send_email", "issue_refund"))
    spec = AgentSpec(name="support-bot", model=ModelSpec("openai", "gpt-4o-mini"), tools=tools)
    return ResolvedAgent("support-bot", 1, spec.digest, spec, env="production")


def record_runs(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    """Record the four runs (module docstring); their trace ids by name."""
    ids: dict[str, str] = {}
    bot = _agent()  # resolved already: the guard decides on a known agent
    sdk.init(sink=store, guard=NoBigRefunds(), spill_dir=tmp_path / "spill", schedule_delay=0.02)
    try:
        with sdk.run(bot, input="where is my order?") as r:
            lookup_order("A-1")
            r.set_outcome(success=True, score=0.9, reason="customer answered")
        ids["clean"] = r.trace_id
        with sdk.run(bot, input="refund please") as r:
            lookup_order("A-2")
            with contextlib.suppress(ToolFailed):  # the agent says the e-mail failed
                send_email("")
            r.set_outcome(success=False, reason="confirmation e-mail not sent")
        ids["tool_err"] = r.trace_id
        with sdk.run(bot, input="refund 900") as r, contextlib.suppress(PolicyDenied):
            issue_refund(900)
        ids["denied"] = r.trace_id
        try:
            with sdk.run(bot, input="crash") as r:
                raise ValueError("model returned garbage")
        except ValueError:
            pass
        ids["raised"] = r.trace_id
        assert sdk.flush(10)
    finally:
        sdk.shutdown(timeout=10)
    run = store.get_run(ids["tool_err"])
    assert run is not None and run.root_span_id is not None
    now = time.time_ns()
    store.write_batch([], [_eval(run.trace_id, run.root_span_id, "tone", True, 0.8, now),
                           _eval(run.trace_id, run.root_span_id, "email-sent", False, 0.0, now)])  # fmt: skip
    return ids


def _eval(trace_id: str, root: str, name: str, passed: bool, score: float, at: int) -> Span:
    """An eval span as online evaluation stores it (``evals/online.py``)."""
    return Span(
        trace_id=trace_id, span_id=new_span_id(), parent_id=root,
        name=f"eval {name}", kind=SpanKind.EVAL, start_ns=at, end_ns=at, seq=100,
        status=SpanStatus.OK, outputs={"score": score, "passed": passed, "reason": f"{name} check"},
        attributes={"eval.name": name, "eval.score": score, "eval.passed": passed},
        links=(SpanLink(trace_id, root, LinkKind.DATA),),
    )  # fmt: skip
