"""The cached policy source: a pinned policy fetched once is kept on disk (by digest) and read
from there by later sources, also when the server is down; a fetch the cache cannot answer is
waited for at most the timeout."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest
from policy_support import example_policy

from agentdeck.core.errors import StoreError
from agentdeck.core.policy.spec import PolicySet
from agentdeck.policy.cached_source import CachedPolicySource
from agentdeck.policy.enforcer import HttpPolicySource
from agentdeck.registry.resolver import ResolveTimeout
from agentdeck.registry.spec_cache import DiskCache


def _serving() -> httpx.MockTransport:
    policy = example_policy()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"name": policy.name, "version": 1,
                                         "digest": policy.digest, "policy": policy.to_dict()})  # fmt: skip

    return httpx.MockTransport(handle)


def _down() -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    return httpx.MockTransport(handle)


def test_a_policy_fetched_once_is_used_from_disk_while_the_server_is_down(
    tmp_path: Path,
) -> None:
    up = HttpPolicySource("http://agentdeck.test", transport=_serving())
    first, cached_at = CachedPolicySource(up, DiskCache(tmp_path)).get_policy_detailed(
        "support-refunds@1"
    )
    assert first == example_policy() and cached_at is None
    down = HttpPolicySource("http://agentdeck.test", transport=_down())
    with pytest.raises(StoreError):
        down.get_policy("support-refunds@1")
    again, cached_at = CachedPolicySource(down, DiskCache(tmp_path)).get_policy_detailed(
        "support-refunds@1"
    )
    assert again == first and cached_at is not None


def test_an_edited_cached_policy_is_not_used(tmp_path: Path) -> None:
    up = HttpPolicySource("http://agentdeck.test", transport=_serving())
    CachedPolicySource(up, DiskCache(tmp_path)).get_policy("support-refunds@1")
    (obj,) = (tmp_path / "objects").iterdir()
    body = json.loads(obj.read_text())
    body["default_effect"] = "allow" if body.get("default_effect") != "allow" else "deny"
    obj.write_text(json.dumps(body))
    down = HttpPolicySource("http://agentdeck.test", transport=_down())
    with pytest.raises(StoreError):
        CachedPolicySource(down, DiskCache(tmp_path)).get_policy("support-refunds@1")


def test_a_hung_source_is_waited_for_at_most_the_timeout(tmp_path: Path) -> None:
    release = threading.Event()

    class Hung:
        def get_policy(self, ref: str) -> PolicySet:
            release.wait(30)
            raise StoreError("too late")

    t0 = time.monotonic()
    with pytest.raises(ResolveTimeout, match="support-refunds@1"):
        CachedPolicySource(Hung(), DiskCache(tmp_path), timeout=0.2).get_policy("support-refunds@1")
    assert time.monotonic() - t0 < 5
    release.set()
