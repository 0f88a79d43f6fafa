"""The HTTP policy source: GET /api/v1/policies/{name}/{version} with the API key, cached for
good, checked against its digest; failures fail the guard closed."""

from __future__ import annotations

import httpx
import pytest
from policy_support import example_policy

from agentdeck.core.errors import StoreError
from agentdeck.policy.enforcer import (
    HttpPolicySource,
    PolicyGuard,
    RegistryPolicySource,
    default_guard,
)


def _server(body_digest: str | None = None) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    policy = example_policy()
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path != "/api/v1/policies/support-refunds/1":
            return httpx.Response(404, json={"detail": "no such policy"})
        return httpx.Response(200, json={
            "name": policy.name, "version": 1, "digest": body_digest or policy.digest,
            "policy": policy.to_dict(),
        })  # fmt: skip

    return httpx.MockTransport(handle), seen


def test_fetches_with_the_api_key_once_per_ref() -> None:
    transport, seen = _server()
    src = HttpPolicySource("http://agentdeck.test/", "k-123", transport=transport)
    first = src.get_policy("support-refunds@1")
    again = src.get_policy("support-refunds@1")
    assert first == again == example_policy()
    assert len(seen) == 1
    assert seen[0].headers["authorization"] == "Bearer k-123"
    assert str(seen[0].url) == "http://agentdeck.test/api/v1/policies/support-refunds/1"


def test_a_missing_policy_or_a_wrong_digest_is_a_store_error() -> None:
    transport, _ = _server()
    src = HttpPolicySource("http://agentdeck.test", transport=transport)
    with pytest.raises(StoreError, match="HTTP 404"):
        src.get_policy("support-refunds@2")
    transport, _ = _server(body_digest="sha256:" + "0" * 64)
    src = HttpPolicySource("http://agentdeck.test", transport=transport)
    with pytest.raises(StoreError, match="does not hash to its digest"):
        src.get_policy("support-refunds@1")


def test_default_guard_picks_the_source_from_the_init_options(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AGENTDECK_ENDPOINT", raising=False)
    g = default_guard({"endpoint": "http://agentdeck.test", "api_key": "k"})
    assert isinstance(g, PolicyGuard) and isinstance(g.source, HttpPolicySource)
    monkeypatch.setenv("AGENTDECK_ENDPOINT", "http://agentdeck.test")
    g = default_guard({})
    assert isinstance(g, PolicyGuard) and isinstance(g.source, HttpPolicySource)


def test_default_guard_uses_a_store_sink_as_the_registry(sqlite_store: object) -> None:
    g = default_guard({"sink": sqlite_store})
    assert isinstance(g, PolicyGuard) and isinstance(g.source, RegistryPolicySource)
