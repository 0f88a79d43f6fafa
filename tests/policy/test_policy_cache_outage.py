"""A server outage enforces the last known pinned policy, not none: the spec and the policy a
reference last resolved to are kept on disk, and a later process uses them while the server is
down; the spans say the cached spec and policy were used, and from when."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from policy_support import effects, issue_refund, register_example, verify_identity

import agentdeck
from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import SpanKind
from agentdeck.policy.enforcer import default_guard
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.keys import create_key
from agentdeck.registry.spec_cache import default_cache
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.http_resolver import HttpResolver
from app_thread import serve_in_thread


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


def _server_seen_then_stopped(store: SqlStore, tmp_path: Path) -> tuple[str, str]:
    """A server that one process resolved support-bot@production through, now stopped."""
    register_example(store)
    Deployments(store, gates=[]).promote("support-bot@1", "production")
    key = create_key(store, "sdk", ["ingest", "read"], "test").token
    url, stop = serve_in_thread(create_app(store))
    try:
        agentdeck.init(
            endpoint=url,
            api_key=key,
            spill_dir=tmp_path / "spill1",
            schedule_delay=0.02,
            resolve_timeout_s=60,
        )  # a loaded test machine
        with pytest.raises(PolicyDenied) as denied:
            _refund(900)
        assert "refund-hard-limit" in denied.value.rules
        sdk.shutdown(timeout=5)
    finally:
        stop()
    return url, key


def _refund(amount: float) -> None:
    with agentdeck.run(agent="support-bot@production", input="refund please"):
        verify_identity(order_id="A-1", email="jane@example.com")
        issue_refund(order_id="A-1", amount=amount, reason="damaged")


def test_a_later_process_enforces_the_cached_policy_while_the_server_is_down(
    store: SqlStore, tmp_path: Path
) -> None:
    url, key = _server_seen_then_stopped(store, tmp_path)
    agentdeck.init(endpoint=url, api_key=key, spill_dir=tmp_path / "spill2", schedule_delay=0.02)
    effects.clear()
    with pytest.raises(PolicyDenied) as denied:
        _refund(900)
    assert "refund-hard-limit" in denied.value.rules  # the pinned rule, not "unresolved"
    _refund(50)  # what the pinned policy allows still runs
    assert ("issue_refund", {"order_id": "A-1", "amount": 50}) in effects
    assert ("issue_refund", {"order_id": "A-1", "amount": 900}) not in effects


def test_the_spans_say_the_cached_spec_and_policy_were_used_and_from_when(
    store: SqlStore, tmp_path: Path
) -> None:
    url, key = _server_seen_then_stopped(store, tmp_path)
    cache = default_cache(None, url)
    sink = sdk.InMemorySink()
    guard = default_guard({"endpoint": url, "api_key": key}, disk=cache)
    agentdeck.init(sink=sink, resolver=HttpResolver(url, key, disk=cache), guard=guard,
                   spill_dir=tmp_path / "spill2", schedule_delay=0.02)  # fmt: skip
    with agentdeck.run(agent="support-bot@production", input="q") as run:
        verify_identity(order_id="A-1", email="jane@example.com")
    assert sdk.flush(5)
    spans = sink.trace(run.trace_id)
    for s in spans:
        assert s.attributes["agentdeck.resolve.source"] == "cache", s.name
        assert s.attributes["agentdeck.resolve.cached_at"]
    (policy,) = [s for s in spans if s.kind is SpanKind.POLICY]
    assert policy.attributes["policy.source"] == "cache"
    assert policy.attributes["policy.cached_at"]
    (recorded,) = [r for r in sink.runs if r.trace_id == run.trace_id]
    assert recorded.agent_name == "support-bot" and recorded.agent_version == 1
    assert recorded.attributes["agentdeck.resolve.source"] == "cache"
