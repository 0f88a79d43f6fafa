"""A caching resolver for the SDK: resolves a reference once per TTL, never on every run.

``name@N`` and ``name@sha256:...`` never change meaning, so they are cached for good;
``name@ENV`` and a bare name follow deployments and registrations, so they are re-resolved
after ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time

from agentdeck.core.refs import parse_ref
from agentdeck.core.spec import ResolvedAgent
from agentdeck.registry.service import Registry


class CachingResolver:
    def __init__(self, registry: Registry, ttl: float = 5.0) -> None:
        self.registry = registry
        self.ttl = ttl
        self._cache: dict[str, tuple[float, ResolvedAgent]] = {}
        self._lock = threading.Lock()

    def resolve(self, ref: str) -> ResolvedAgent:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(ref)
        if hit is not None and (hit[0] == float("inf") or now - hit[0] < self.ttl):
            return hit[1]
        resolved = self.registry.resolve(ref)
        r = parse_ref(ref)
        stamp = float("inf") if (r.version is not None or r.digest is not None) else now
        with self._lock:
            self._cache[ref] = (stamp, resolved)
        return resolved
