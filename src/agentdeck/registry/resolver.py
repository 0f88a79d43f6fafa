"""Resolving agent references for the SDK without blocking the agent for long.

:class:`RefreshingResolver` holds what a reference resolved to, in memory and (optionally) in
an on-disk :class:`~agentdeck.registry.spec_cache.DiskCache`:

- ``name@N`` and ``name@sha256:...`` never change meaning: once known they are kept for good.
- ``name@ENV`` and a bare name follow deployments: after ``ttl`` seconds the known answer is
  still served at once while a background thread fetches the new one.
- A reference not in memory but in the disk cache is served from the cache at once (marked
  with when it was saved) and refreshed in the background; the run records that.
- With nothing cached, the fetch runs on a worker thread and the caller waits at most
  ``timeout`` seconds (None: the fetch runs on the caller's thread), then gets
  :class:`ResolveTimeout`. A failed resolution is remembered for ``ttl`` seconds, so an
  unreachable source is not asked again on every run.
- An unknown reference (:class:`~agentdeck.core.errors.UnresolvedReferenceError`) is an answer, not an
  outage: it is never replaced by a cached value, and removes the reference from the cache.

:class:`CachingResolver` fetches from the embedded registry; the tracing package's
``HttpResolver`` from the server.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from agentdeck.core.errors import StoreError, UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.spec.refs import parse_ref
from agentdeck.registry.spec_cache import DiskCache

if TYPE_CHECKING:  # not at import: the SDK's tracing imports this module
    from agentdeck.registry.service import Registry

__all__ = [
    "CachingResolver",
    "RefreshingResolver",
    "Resolution",
    "ResolveTimeout",
    "at_fork_in_child",
]

_INF = float("inf")
T = TypeVar("T")
SPEC_KIND = "spec"


class ResolveTimeout(StoreError):
    """The source did not answer a resolution within the resolver's timeout."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a reference resolved to; ``cached_at`` is set when the answer is a cached one the
    source could not confirm (served from disk, or kept while the source is unreachable)."""

    agent: ResolvedAgent
    cached_at: datetime | None = None


def at_fork_in_child(obj: T, reset: Callable[[T], None]) -> None:
    """Call ``reset(obj)`` in a forked child while ``obj`` is alive (held weakly)."""
    ref = weakref.ref(obj)

    def child() -> None:
        alive = ref()
        if alive is not None:
            reset(alive)

    os.register_at_fork(after_in_child=child)


def _immutable(ref: str) -> bool:
    r = parse_ref(ref)
    return r.version is not None or r.digest is not None


class RefreshingResolver:
    """Stale-while-revalidate resolution over ``fetch``; see the module docstring."""

    def __init__(
        self,
        fetch: Callable[[str], ResolvedAgent],
        *,
        ttl: float = 5.0,
        timeout: float | None = None,
        disk: DiskCache | None = None,
    ) -> None:
        self._fetch_fn = fetch
        self.ttl = ttl
        self.timeout = timeout
        self.disk = disk
        # ref -> (monotonic stamp (inf: never stale), resolution, wall time it was fetched)
        self._cache: dict[str, tuple[float, Resolution, datetime]] = {}
        self._failed: dict[str, tuple[float, Exception]] = {}
        self._inflight: dict[str, Future[Resolution]] = {}
        self._lock = threading.Lock()
        at_fork_in_child(self, RefreshingResolver._after_fork)

    def _after_fork(self) -> None:
        """In a forked child the fetch threads are gone: forget what they were doing."""
        self._lock = threading.Lock()
        self._inflight = {}

    # -- public ---------------------------------------------------------------------------

    def resolve(self, ref: str) -> ResolvedAgent:
        return self.resolve_detailed(ref).agent

    def resolve_detailed(self, ref: str) -> Resolution:
        """The resolution of ``ref``, without waiting more than ``timeout`` on the source."""
        with self._lock:
            hit = self._cache.get(ref)
            failed = self._failed.get(ref)
        if hit is not None:
            stamp, res, _ = hit
            if stamp != _INF and time.monotonic() - stamp >= self.ttl:
                self._refresh_in_background(ref)
            return res
        cached = self._from_disk(ref)
        if cached is not None:
            immutable = _immutable(ref)
            with self._lock:
                self._cache[ref] = (_INF if immutable else -_INF, cached, cached.cached_at
                                    or datetime.now(UTC))  # fmt: skip
            if not immutable:
                self._refresh_in_background(ref)
            return cached
        if failed is not None and time.monotonic() - failed[0] < self.ttl:
            raise failed[1]  # a source that just failed is not asked again on every run
        if self.timeout is None:
            return self._fetch_and_cache(ref)
        return self._fetch_bounded(ref, self.timeout)

    # -- parts ----------------------------------------------------------------------------

    def _fetch_bounded(self, ref: str, timeout: float) -> Resolution:
        with self._lock:
            fut = self._inflight.get(ref)
            start = fut is None
            if fut is None:
                fut = self._inflight[ref] = Future()
        if start:

            def work() -> None:
                try:
                    fut.set_result(self._fetch_and_cache(ref))
                except BaseException as exc:
                    fut.set_exception(exc)
                finally:
                    with self._lock:
                        self._inflight.pop(ref, None)

            threading.Thread(target=work, name="agentdeck-resolve", daemon=True).start()
        try:
            return fut.result(timeout=timeout)
        except FutureTimeout:
            exc = ResolveTimeout(f"resolving {ref}: no answer within {timeout:g} s")
            with self._lock:
                if ref not in self._cache:
                    self._failed[ref] = (time.monotonic(), exc)
            raise exc from None

    def _refresh_in_background(self, ref: str) -> None:
        with self._lock:
            if ref in self._inflight:
                return
            fut: Future[Resolution] = Future()
            self._inflight[ref] = fut

        def work() -> None:
            try:
                fut.set_result(self._fetch_and_cache(ref))
            except UnresolvedReferenceError as exc:  # the source says it is gone: forget it
                with self._lock:
                    self._cache.pop(ref, None)
                    self._failed[ref] = (time.monotonic(), exc)
                if self.disk is not None:
                    self.disk.discard(SPEC_KIND, ref)
                fut.set_exception(exc)
            except BaseException as exc:  # keep serving what we have, marked as cached
                with self._lock:
                    entry = self._cache.get(ref)
                    if entry is not None:
                        _, res, fetched = entry
                        self._cache[ref] = (time.monotonic(), Resolution(res.agent, fetched),
                                            fetched)  # fmt: skip
                fut.set_exception(exc)
            finally:
                with self._lock:
                    self._inflight.pop(ref, None)

        threading.Thread(target=work, name="agentdeck-resolve", daemon=True).start()

    def _fetch_and_cache(self, ref: str) -> Resolution:
        try:
            agent = self._fetch_fn(ref)
        except Exception as exc:
            with self._lock:
                self._failed[ref] = (time.monotonic(), exc)
            raise
        res = Resolution(agent)
        stamp = _INF if _immutable(ref) else time.monotonic()
        with self._lock:
            self._cache[ref] = (stamp, res, datetime.now(UTC))
            self._failed.pop(ref, None)
        if self.disk is not None:
            self.disk.put(SPEC_KIND, ref, agent.digest, agent.spec.to_dict(), {
                "name": agent.name, "version": agent.version, "env": agent.env,
                "deployment_id": agent.deployment_id,
            })  # fmt: skip
        return res

    def _from_disk(self, ref: str) -> Resolution | None:
        if self.disk is None:
            return None
        entry = self.disk.get(SPEC_KIND, ref)
        if entry is None:
            return None
        try:
            spec = AgentSpec.from_dict(entry.body)
            if spec.digest != entry.digest:
                return None  # edited or corrupt: a miss
            meta = entry.meta
            agent = ResolvedAgent(
                name=str(meta["name"]), version=int(meta["version"]), digest=entry.digest,
                spec=spec, env=meta.get("env"), deployment_id=meta.get("deployment_id"),
            )  # fmt: skip
        except Exception:
            return None
        return Resolution(agent, entry.saved_at)


class CachingResolver(RefreshingResolver):
    """Resolves through the embedded registry (``Registry.resolve``); see the module docstring."""

    def __init__(
        self,
        registry: Registry,
        ttl: float = 5.0,
        *,
        timeout: float | None = None,
        disk: DiskCache | None = None,
    ) -> None:
        super().__init__(registry.resolve, ttl=ttl, timeout=timeout, disk=disk)
        self.registry = registry
