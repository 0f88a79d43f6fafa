"""A long multi-agent run for the run page's tests: a triage agent that looks an order up and
hands off to a billing agent, which calls tools in a loop (each model call offered the same
tool list, its context window growing), one tool call failing; 29 spans in all."""

from __future__ import annotations

import time
from typing import Any

from agentdeck.core.trace.model import (
    Run,
    Span,
    SpanKind,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} of the shop's API; " + "a long description. " * 12,
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
    for name in ("lookup_order", "issue_refund", "send_email")
]
TRIAGE_TOOLS: list[dict[str, Any]] = [{"name": "transfer_to_billing", "parameters": {}}]
BILLING_LOOPS = 8


def long_run(start_ns: int | None = None) -> tuple[Run, list[Span], dict[str, Any]]:
    """The run, its spans, and what the tests look up: span ids by role."""
    tid = new_trace_id()
    t = start_ns if start_ns is not None else time.time_ns()
    ms = 1_000_000
    spans: list[Span] = []
    seq = iter(range(1000))

    def add(parent: str | None, name: str, kind: SpanKind, **kw: Any) -> str:
        nonlocal t
        sid = new_span_id()
        t += 2 * ms
        spans.append(Span(tid, sid, parent, name, kind, t, t + ms, next(seq), **kw))
        return sid

    question = "My lamp from ORD-7 arrived broken; refund it please."
    triage = add(None, "triage-bot", SpanKind.AGENT, status=SpanStatus.OK,
                 inputs={"input": question}, attributes={"agent.name": "triage-bot"})  # fmt: skip
    add(triage, "chat gpt-4o", SpanKind.LLM, status=SpanStatus.OK,
        inputs={"messages": [{"role": "user", "content": question}], "tools": TRIAGE_TOOLS},
        outputs={"message": {"role": "assistant", "content": "transferring"}},
        usage=TokenUsage(50, 5))  # fmt: skip
    hand = add(triage, "handoff to billing-bot", SpanKind.HANDOFF, status=SpanStatus.OK,
               attributes={"handoff.from": "triage-bot", "handoff.to": "billing-bot"})  # fmt: skip
    billing = add(hand, "billing-bot", SpanKind.AGENT, status=SpanStatus.OK,
                  attributes={"agent.name": "billing-bot"})  # fmt: skip
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are the billing bot."},
        {"role": "user", "content": question},
    ]
    failing = ""
    for i in range(BILLING_LOOPS):
        tool = TOOLS[i % 3]["function"]["name"]
        call = {"id": f"call-{i}", "type": "function",
                "function": {"name": tool, "arguments": '{"order_id": "ORD-7"}'}}  # fmt: skip
        add(billing, "chat gpt-4o", SpanKind.LLM, status=SpanStatus.OK,
            inputs={"messages": list(messages), "tools": TOOLS},
            outputs={"message": {"role": "assistant", "content": None, "tool_calls": [call]}},
            usage=TokenUsage(400 + 100 * i, 20))  # fmt: skip
        tool_id = add(billing, tool, SpanKind.TOOL,
                      status=SpanStatus.ERROR if i == 5 else SpanStatus.OK,
                      error="mail server refused: no recipient" if i == 5 else None,
                      inputs={"args": {"order_id": "ORD-7"}}, outputs={"result": {"ok": i != 5}},
                      attributes={"tool.name": tool, "tool.call_id": f"call-{i}"})  # fmt: skip
        add(tool_id, "policy support-refunds", SpanKind.POLICY, status=SpanStatus.OK,
            outputs={"effect": "allow", "rules": [], "message": ""},
            attributes={"policy.name": "support-refunds"})  # fmt: skip
        if i == 5:
            failing = tool_id
        messages += [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"call-{i}", "content": f"result {i}"},
        ]
    add(billing, "chat gpt-4o", SpanKind.LLM, status=SpanStatus.OK,
        inputs={"messages": list(messages), "tools": TOOLS},
        outputs={"message": {"role": "assistant", "content": "Refunded, but no e-mail went out."}},
        usage=TokenUsage(1100, 30))  # fmt: skip
    answer = "Refunded, but no e-mail went out."
    run = Run(tid, "triage-bot", 1, None, "production", None, spans[0].start_ns, t + 2 * ms,
              SpanStatus.OK, input=question, output=answer, root_span_id=triage)  # fmt: skip
    tokens_in = sum(s.usage.input_tokens for s in spans if s.usage)
    tokens_out = sum(s.usage.output_tokens for s in spans if s.usage)
    ids = {"trace_id": tid, "triage": triage, "billing": billing, "failing": failing,
           "question": question, "answer": answer, "tokens": (tokens_in, tokens_out)}  # fmt: skip
    return run, spans, ids
