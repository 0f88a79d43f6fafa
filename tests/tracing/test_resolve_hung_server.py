"""Resolution never blocks the agent's thread for long on a hung server (one that accepts
connections and never answers): with a cached spec it is served at once and refreshed
off-thread; with nothing cached the agent waits at most ``resolve_timeout_s``, then the
guarded call is denied."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import agentdeck
from agentdeck.core.errors import PolicyDenied
from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.registry.spec_cache import default_cache
from agentdeck.tracing.sdk import api as sdk
from net_support import hung_server

POLICY = parse_policy_spec({
    "name": "limits", "default_effect": "allow",
    "rules": [{"id": "no-big-refunds", "when": 'tool.name == "refund" && args.amount > 500',
               "effect": "deny", "message": "too much"}],
}, "limits.yaml")  # fmt: skip
SPEC = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="hi",
                 tools=(ToolSpec("refund", "refund", {"type": "object"}),),
                 policy="limits@1")  # fmt: skip

ran: list[float] = []


@agentdeck.tool
def refund(amount: float) -> str:
    ran.append(amount)
    return "ok"


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    ran.clear()
    yield
    sdk.shutdown(timeout=5)


def _seed_cache(url: str) -> None:
    """What an earlier process saved for this server: the spec of bot@production, the policy."""
    cache = default_cache(None, url)
    meta = {"name": "bot", "version": 3, "env": "production", "deployment_id": "d1"}
    assert cache.put("spec", "bot@production", SPEC.digest, SPEC.to_dict(), meta)
    assert cache.put("policy", "limits@1", POLICY.digest, POLICY.to_dict())


def _timed_refund(amount: float) -> float:
    t0 = time.monotonic()
    try:
        with agentdeck.run(agent="bot@production", input="q"):
            refund(amount=amount)
    finally:
        elapsed = time.monotonic() - t0
    return elapsed


def test_a_cached_spec_is_served_at_once_from_a_hung_server(tmp_path: Path) -> None:
    with hung_server() as url:
        _seed_cache(url)
        agentdeck.init(endpoint=url, api_key="k", resolve_timeout_s=5.0,
                       spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
        elapsed = _timed_refund(50)
        assert ran == [50]
        assert elapsed < 2.5  # half the resolve timeout: nothing waited for the server
        with pytest.raises(PolicyDenied) as denied:  # the cached policy is enforced
            _timed_refund(900)
        assert denied.value.rules == ["no-big-refunds"]


def test_with_nothing_cached_a_hung_server_costs_at_most_the_resolve_timeout(
    tmp_path: Path,
) -> None:
    with hung_server() as url:
        agentdeck.init(endpoint=url, api_key="k", resolve_timeout_s=0.3,
                       spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
        t0 = time.monotonic()
        with pytest.raises(PolicyDenied, match=r"timeout.*no answer within 0.3 s"):
            _timed_refund(50)
        assert time.monotonic() - t0 < 5  # 0.3 s, with a generous margin for a loaded machine
        assert ran == []
