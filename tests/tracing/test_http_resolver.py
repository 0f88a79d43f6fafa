"""The SDK's resolver when it sends to a server: GET /api/v1/resolve, cached, refreshed off-thread."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from agentdeck.core.errors import StoreError, UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, ModelSpec
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.http_resolver import HttpResolver

V1 = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="v1")
V2 = AgentSpec("bot", ModelSpec("openai", "gpt-4o-2024-08-06"), system_prompt="v2")


class FakeServer:
    """Answers /api/v1/resolve like the server does; ``production`` can be re-pointed."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.production = (1, V1)
        self.tamper = False

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/v1/resolve"
        assert request.headers["authorization"] == "Bearer k"
        ref = request.url.params["ref"]
        self.calls.append(ref)
        if ref == "bot@1":
            version, spec, env = 1, V1, None
        elif ref == "bot@production":
            (version, spec), env = self.production, "production"
        else:
            return httpx.Response(404, json={"error": f"{ref}: no such version"})
        digest = V2.digest if self.tamper else spec.digest
        body: dict[str, Any] = {
            "name": "bot", "version": version, "digest": digest, "env": env,
            "deployment_id": "d1" if env else None, "spec": spec.to_dict(),
        }  # fmt: skip
        return httpx.Response(200, json=body)


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


def _resolver(server: FakeServer, ttl: float = 5.0) -> HttpResolver:
    return HttpResolver(
        "http://agentdeck.test", "k", ttl=ttl, transport=httpx.MockTransport(server.handler)
    )


def test_a_version_ref_is_fetched_once_and_kept(server: FakeServer) -> None:
    r = _resolver(server)
    first = r.resolve("bot@1")
    assert (first.name, first.version, first.digest) == ("bot", 1, V1.digest)
    assert r.resolve("bot@1") is first
    assert server.calls == ["bot@1"]


def test_an_env_ref_is_served_from_cache_and_refreshed_in_the_background(
    server: FakeServer,
) -> None:
    r = _resolver(server, ttl=0.05)
    assert r.resolve("bot@production").version == 1
    server.production = (2, V2)
    time.sleep(0.1)
    assert r.resolve("bot@production").version == 1  # stale answer at once, refresh started
    deadline = time.monotonic() + 5
    while r.resolve("bot@production").version != 2:
        assert time.monotonic() < deadline, "background refresh never landed"
        time.sleep(0.02)
    assert r.resolve("bot@production").deployment_id == "d1"


def test_unknown_refs_and_tampered_answers_are_refused(server: FakeServer) -> None:
    r = _resolver(server)
    with pytest.raises(UnresolvedReferenceError, match="bot@9"):
        r.resolve("bot@9")
    server.tamper = True
    with pytest.raises(StoreError, match="does not hash to the digest"):
        r.resolve("bot@1")


def test_a_failed_resolution_is_not_retried_on_every_run(server: FakeServer) -> None:
    r = _resolver(server, ttl=60)
    for _ in range(3):
        with pytest.raises(UnresolvedReferenceError):
            r.resolve("bot@9")
    assert server.calls == ["bot@9"]


def test_init_with_an_endpoint_resolves_through_the_server(tmp_path: Any) -> None:
    sdk.init(endpoint="http://127.0.0.1:9", api_key="k", spill_dir=tmp_path)
    try:
        assert rec.config is not None and isinstance(rec.config.resolver, HttpResolver)
    finally:
        sdk.shutdown(timeout=1)
