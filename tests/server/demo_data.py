"""Demo-like runs for server tests: an agent step, an LLM step with its context window, a
policy decision, a tool call that consumed the LLM's output, and a hand-off to a second agent."""

from __future__ import annotations

import time
from typing import Any

from agentdeck.core.trace.model import (
    LinkKind,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)


def demo_run(
    agent: str = "support-bot",
    version: int = 1,
    env: str = "production",
    *,
    fail: bool = False,
    tool_args: dict[str, Any] | None = None,
    start_ns: int | None = None,
) -> tuple[Run, list[Span]]:
    tid = new_trace_id()
    t0 = start_ns if start_ns is not None else time.time_ns()
    ms = 1_000_000
    root, llm, pol, tool, hand = (new_span_id() for _ in range(5))
    args = tool_args if tool_args is not None else {"order_id": "A-17", "amount": 40}
    messages = [
        {"role": "system", "content": "You are the support bot."},
        {"role": "user", "content": "Refund order A-17 please"},
    ]
    call = {"id": "c1", "name": "issue_refund", "arguments": args}
    status = SpanStatus.ERROR if fail else SpanStatus.OK
    spans = [
        Span(
            tid,
            root,
            None,
            agent,
            SpanKind.AGENT,
            t0,
            t0 + 90 * ms,
            0,
            status,
            "refund failed" if fail else None,
            inputs={"input": "Refund order A-17 please"},
            attributes={"agent.name": agent, "agent.version": version},
        ),
        Span(
            tid,
            llm,
            root,
            "chat gpt-4o",
            SpanKind.LLM,
            t0 + 2 * ms,
            t0 + 30 * ms,
            1,
            SpanStatus.OK,
            inputs={"messages": messages, "tools": [{"name": "issue_refund"}]},
            outputs={"message": {"role": "assistant", "content": None, "tool_calls": [call]}},
            attributes={"llm.model": "gpt-4o-2024-08-06"},
            usage=TokenUsage(120, 18),
        ),
        Span(
            tid,
            pol,
            root,
            "policy issue_refund",
            SpanKind.POLICY,
            t0 + 31 * ms,
            t0 + 32 * ms,
            2,
            SpanStatus.OK,
            outputs={"effect": "allow", "rules": [], "message": ""},
            attributes={"policy.name": "support-refunds"},
        ),
        Span(
            tid,
            tool,
            root,
            "issue_refund",
            SpanKind.TOOL,
            t0 + 33 * ms,
            t0 + 60 * ms,
            3,
            status,
            "upstream 500" if fail else None,
            inputs={"args": args},
            outputs=None if fail else {"result": {"status": "refunded"}},
            attributes={"tool.name": "issue_refund"},
            links=(SpanLink(tid, llm, LinkKind.DATA), SpanLink(tid, pol, LinkKind.POLICY)),
        ),
        Span(
            tid,
            hand,
            root,
            "handoff to billing-bot",
            SpanKind.HANDOFF,
            t0 + 61 * ms,
            t0 + 85 * ms,
            4,
            SpanStatus.OK,
            attributes={"handoff.from": agent, "handoff.to": "billing-bot"},
        ),
    ]
    run = Run(
        tid,
        agent,
        version,
        None,
        env,
        None,
        t0,
        t0 + 90 * ms,
        status,
        "refund failed" if fail else None,
        input="Refund order A-17 please",
        output=None if fail else "Refunded.",
        root_span_id=root,
    )
    return run, spans


def settled_counts(store: Any, timeout: float = 15.0) -> dict[str, int]:
    """:func:`table_counts` once they stop changing: a live server checks the runs of earlier
    requests in the background (findings, run summaries), after it has answered them."""
    import time

    deadline = time.monotonic() + timeout
    last = table_counts(store)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        now = table_counts(store)
        if now == last:
            return now
        last = now
    return last


def table_counts(store: Any) -> dict[str, int]:
    """Rows in every table agentdeck defines (to show that a refused request changed nothing)."""
    from sqlalchemy import func, select

    from agentdeck.store.tables import metadata

    with store.engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for name, t in metadata.tables.items()
        }
