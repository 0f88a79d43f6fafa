"""Paths shared by the eval tests (a module, since conftest modules are not importable)."""

from __future__ import annotations

from pathlib import Path

from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec
from agentdeck.store.protocol import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-bot"
SUITE = EXAMPLE / "evals" / "suite.yaml"


def register_example(store: Store) -> Registry:
    """The example's policy and both agent versions (support-bot@1, support-bot@2)."""
    reg = Registry(store)
    reg.register_policy(load_policy_spec(EXAMPLE / "policy.yaml"), "tester")
    reg.register_agent(load_agent_spec(EXAMPLE / "agent.v1.yaml"), "tester")
    reg.register_agent(load_agent_spec(EXAMPLE / "agent.v2.yaml"), "tester")
    return reg


def refund_run() -> list:  # type: ignore[type-arg]
    """The tool spans of a refund run: lookup, verify, refund of 40."""
    from agentdeck.core.trace.model import Span, SpanKind, SpanStatus

    def tool(seq: int, name: str, args: dict, result: object = None) -> Span:  # type: ignore[type-arg]
        return Span(
            trace_id="a" * 32, span_id=f"{seq + 1:016x}", parent_id=None, name=name, kind=SpanKind.TOOL,
            start_ns=seq, end_ns=seq + 1, seq=seq, status=SpanStatus.OK, inputs={"args": args},
            outputs={"result": result}, attributes={"tool.name": name},
        )  # fmt: skip

    return [
        tool(0, "lookup_order", {"order_id": "ORD-1001"}, {"amount": 90}),
        tool(
            1,
            "verify_identity",
            {"order_id": "ORD-1001", "email": "jane@example.com"},
            {"verified": True},
        ),
        tool(2, "issue_refund", {"order_id": "ORD-1001", "amount": 40, "reason": "damaged"}),
    ]
