"""A :class:`~agentdeck.policy.enforcer.PolicySource` that keeps pinned policies on disk.

A pinned policy version (``name@N``) never changes meaning, so once fetched it is saved in the
on-disk :class:`~agentdeck.registry.spec_cache.DiskCache` (by digest, bounded, 0600 files) and
later read from there, also by later processes: a server or store outage then still enforces
the last known pinned policy rather than none. A cached body must hash to its digest, or it is
a miss. A fetch the cache cannot answer runs on a worker thread and the agent's thread waits at
most ``timeout`` seconds for it; past that (or on any error) the lookup raises and the guard
denies the call.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from typing import Protocol

from agentdeck.core.policy.spec import PolicySet
from agentdeck.registry.resolver import ResolveTimeout, at_fork_in_child
from agentdeck.registry.spec_cache import DiskCache

__all__ = ["POLICY_KIND", "CachedPolicySource"]

POLICY_KIND = "policy"


class _Source(Protocol):
    def get_policy(self, ref: str) -> PolicySet: ...


class CachedPolicySource:
    """``inner`` behind the disk cache ``disk``, with a bounded wait; see the module docstring."""

    def __init__(self, inner: _Source, disk: DiskCache, *, timeout: float | None = 2.0) -> None:
        self.inner = inner
        self.disk = disk
        self.timeout = timeout
        self._lock = threading.Lock()
        self._inflight: dict[str, Future[PolicySet]] = {}
        at_fork_in_child(self, CachedPolicySource._after_fork)

    def _after_fork(self) -> None:
        """In a forked child the fetch threads are gone: forget what they were doing."""
        self._lock = threading.Lock()
        self._inflight = {}

    def get_policy(self, ref: str) -> PolicySet:
        return self.get_policy_detailed(ref)[0]

    def get_policy_detailed(self, ref: str) -> tuple[PolicySet, datetime | None]:
        """The policy ``ref`` names, and when it was cached if it came from the disk cache."""
        entry = self.disk.get(POLICY_KIND, ref)
        if entry is not None:
            try:
                policy = PolicySet.from_dict(entry.body)
                if policy.digest == entry.digest:
                    return policy, entry.saved_at
            except Exception:
                pass  # a corrupt entry is a miss
        return self._fetch(ref), None

    def _fetch_and_save(self, ref: str) -> PolicySet:
        policy = self.inner.get_policy(ref)
        self.disk.put(POLICY_KIND, ref, policy.digest, policy.to_dict())
        return policy

    def _fetch(self, ref: str) -> PolicySet:
        if self.timeout is None:
            return self._fetch_and_save(ref)
        with self._lock:
            fut = self._inflight.get(ref)
            start = fut is None
            if fut is None:
                fut = self._inflight[ref] = Future()
        running: Future[PolicySet] = fut
        if start:

            def work() -> None:
                try:
                    running.set_result(self._fetch_and_save(ref))
                except BaseException as exc:
                    running.set_exception(exc)
                finally:
                    with self._lock:
                        self._inflight.pop(ref, None)

            threading.Thread(target=work, name="agentdeck-policy-fetch", daemon=True).start()
        try:
            return running.result(timeout=self.timeout)
        except FutureTimeout:
            raise ResolveTimeout(
                f"fetching policy {ref}: no answer within {self.timeout:g} s"
            ) from None
