"""Conversations in OpenAI chat format for the import tests, and the example agent + policy
registered in a store (support-bot@1 pins support-refunds@1)."""

from __future__ import annotations

import json
from typing import Any

from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLES


def register_example(store: SqlStore) -> ResolvedAgent:
    reg = Registry(store)
    reg.register_policy(load_policy_spec(EXAMPLES / "policy.yaml"), "test", "policy.yaml")
    reg.register_agent(load_agent_spec(EXAMPLE_V1), "test", "agent.v1.yaml")
    return reg.resolve("support-bot@1")


def call(cid: str, name: str, args: dict[str, Any] | str) -> dict[str, Any]:
    raw = args if isinstance(args, str) else json.dumps(args)
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": raw}}


def refund_conversation(
    *, order: str = "ORD-1001", amount: float = 40.0, verify: bool = True, stamps: bool = True,
    t0: float = 1_767_000_000.0, outcome: Any = 1,
) -> dict[str, Any]:  # fmt: skip
    """A refund conversation: lookup (valid args), [verify], refund; timestamps 1 s apart."""
    msgs: list[dict[str, Any]] = [
        {"role": "system", "content": "You help."},
        {"role": "user", "content": f"Refund order {order}"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "lookup_order", {"order_id": order})],
         "usage": {"prompt_tokens": 100, "completion_tokens": 10}},
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"order_id": order, "status": "delivered"})},
    ]  # fmt: skip
    if verify:
        msgs += [
            {"role": "assistant", "content": None,
             "tool_calls": [call("c2", "verify_identity", {"order_id": order, "email": "a@example.com"})]},
            {"role": "tool", "tool_call_id": "c2", "content": json.dumps({"verified": True})},
        ]  # fmt: skip
    msgs += [
        {"role": "assistant", "content": None,
         "tool_calls": [call("c3", "issue_refund", {"order_id": order, "amount": amount, "reason": "late"})]},
        {"role": "tool", "tool_call_id": "c3", "content": json.dumps({"refund_id": "R1", "status": "issued"})},
        {"role": "assistant", "content": "Refunded.", "usage": {"prompt_tokens": 300, "completion_tokens": 5}},
    ]  # fmt: skip
    if stamps:
        for i, m in enumerate(msgs):
            m["timestamp"] = t0 + i
    return {"messages": msgs, "outcome": outcome, "metadata": {"task": "refund"}}


def write_jsonl(path: Any, docs: list[dict[str, Any]]) -> Any:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    return path


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_request(trace: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    """One ExportTraceServiceRequest (collector file-exporter JSON) holding ``spans``."""
    out = []
    for s in spans:
        out.append({
            "traceId": trace, "spanId": s["id"], "name": s["name"], "kind": 1,
            **({"parentSpanId": s["parent"]} if s.get("parent") else {}),
            "startTimeUnixNano": str(s["start"]), "endTimeUnixNano": str(s["end"]),
            "attributes": [_attr(k, v) for k, v in s["attrs"].items()],
        })  # fmt: skip
    return {"resourceSpans": [{"resource": {"attributes": [_attr("service.name", "bot")]},
                               "scopeSpans": [{"scope": {"name": "t"}, "spans": out}]}]}  # fmt: skip


def refund_trace_lines(trace: str = "5b8efff798038103d269b633813fc60c") -> list[dict[str, Any]]:
    """A GenAI-semconv trace of a refund without verification, split over two export lines
    (children first, as exporters send them): lookup_order with bad args, issue_refund."""
    t0 = 1_767_000_000_000_000_000
    root = {"id": "eee19b7ec3c1b174", "name": "invoke_agent support-bot", "start": t0,
            "end": t0 + 5 * 10**9, "attrs": {"gen_ai.operation.name": "invoke_agent",
                                              "gen_ai.agent.name": "support-bot"}}  # fmt: skip
    look = {"id": "eee19b7ec3c1b175", "parent": root["id"], "name": "execute_tool lookup_order",
            "start": t0 + 10**9, "end": t0 + 2 * 10**9,
            "attrs": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "lookup_order",
                      "gen_ai.tool.call.arguments": json.dumps({"order_id": 12})}}  # fmt: skip
    refund = {"id": "eee19b7ec3c1b176", "parent": root["id"], "name": "execute_tool issue_refund",
              "start": t0 + 3 * 10**9, "end": t0 + 4 * 10**9,
              "attrs": {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "issue_refund",
                        "gen_ai.tool.call.arguments": json.dumps(
                            {"order_id": "ORD-1001", "amount": 40, "reason": "late"})}}  # fmt: skip
    return [otlp_request(trace, [look, refund]), otlp_request(trace, [root])]
