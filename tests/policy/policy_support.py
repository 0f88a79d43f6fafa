"""Helpers for the policy enforcement tests: the example's tools with side-effect logs, the
example policy and agent registered in a store, and an SDK started with a policy guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentdeck.core.policy.spec import PolicySet, parse_policy_spec
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.spec.artifacts import PolicyVersion
from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.policy.approvals import Approver
from agentdeck.policy.enforcer import PolicyGuard, RegistryPolicySource
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import EXAMPLE_V1, EXAMPLES

EXAMPLE_POLICY_FILE = EXAMPLES / "policy.yaml"

#: What the tools really did (a denied call must leave no trace here).
effects: list[tuple[str, dict[str, Any]]] = []


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    effects.append(("lookup_order", {"order_id": order_id}))
    return {"order_id": order_id, "status": "delivered", "amount": 80.0, "currency": "EUR",
            "email": "jane@example.com"}  # fmt: skip


@sdk.tool
def verify_identity(order_id: str, email: str) -> dict[str, Any]:
    effects.append(("verify_identity", {"order_id": order_id, "email": email}))
    return {"verified": True}


@sdk.tool
def issue_refund(order_id: str, amount: float, reason: str) -> dict[str, Any]:
    effects.append(("issue_refund", {"order_id": order_id, "amount": amount}))
    return {"refund_id": f"R-{order_id}", "status": "issued"}


@sdk.tool
def send_email(to: str, subject: str, body: str) -> dict[str, Any]:
    effects.append(("send_email", {"to": to}))
    return {"message_id": f"m{len(effects)}"}


@sdk.tool
def search_kb(query: str) -> dict[str, Any]:
    effects.append(("search_kb", {"query": query}))
    return {"results": []}


def example_policy() -> PolicySet:
    return load_policy_spec(EXAMPLE_POLICY_FILE)


def example_agent() -> AgentSpec:
    return load_agent_spec(EXAMPLE_V1)


def register_example(store: SqlStore) -> tuple[PolicyVersion, ResolvedAgent]:
    """support-refunds@1 (the example policy) and support-bot@1 (pinning it)."""
    reg = Registry(store)
    pv, _ = reg.register_policy(example_policy(), "test", "policy.yaml")
    reg.register_agent(example_agent(), "test", "agent.v1.yaml")
    return pv, reg.resolve("support-bot@1")


def policy_from(doc: dict[str, Any]) -> PolicySet:
    return parse_policy_spec(doc, "test-policy.yaml")


def start_sdk(
    tmp_path: Path, store: SqlStore, approver: Approver | None = None, **kw: Any
) -> sdk.InMemorySink:
    """The SDK on an in-memory sink, resolving and fetching policies from ``store``."""
    reg = Registry(store)
    sink = sdk.InMemorySink()
    guard = kw.pop("guard", None) or PolicyGuard(RegistryPolicySource(reg), approver)
    sdk.init(sink=sink, resolver=CachingResolver(reg), guard=guard, spill_dir=tmp_path / "spill",
             schedule_delay=0.02, **kw)  # fmt: skip
    effects.clear()
    return sink


def spans(sink: sdk.InMemorySink, trace_id: str, kind: SpanKind | None = None) -> list[Span]:
    assert sdk.flush(5)
    return sorted(
        (s for s in sink.trace(trace_id) if kind is None or s.kind is kind), key=lambda s: s.seq
    )
