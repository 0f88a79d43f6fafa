"""Where the policy guard gets a pinned policy version (``name@N``): the :class:`PolicySource`
seam, the embedded store's registry (opened on first use) and the server's API."""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from agentdeck.core.errors import StoreError
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec
from agentdeck.core.spec.refs import parse_ref

__all__ = ["HttpPolicySource", "LazyStoreSource", "PolicySource", "RegistryPolicySource"]


@runtime_checkable
class PolicySource(Protocol):
    """Where the guard gets a pinned policy version (``name@N``) from."""

    def get_policy(self, ref: str) -> PolicySet: ...


class _RegistryLike(Protocol):
    def get_policy(self, ref: str) -> Any: ...


class RegistryPolicySource:
    """The embedded store's registry (``Registry(store).get_policy``)."""

    def __init__(self, registry: _RegistryLike) -> None:
        self.registry = registry

    def get_policy(self, ref: str) -> PolicySet:
        policy: PolicySet = self.registry.get_policy(ref).policy
        return policy


class LazyStoreSource:
    """The embedded store at ``AGENTDECK_DATABASE_URL`` (or ``.agentdeck/``), opened on the
    first policy lookup, so that agents without a pinned policy never touch it."""

    def __init__(self) -> None:
        self._inner: RegistryPolicySource | None = None
        self._lock = threading.Lock()

    def get_policy(self, ref: str) -> PolicySet:
        with self._lock:
            if self._inner is None:
                from agentdeck.registry.service import Registry
                from agentdeck.store import open_store

                self._inner = RegistryPolicySource(Registry(open_store()))
        return self._inner.get_policy(ref)


class HttpPolicySource:
    """The server's API: ``GET {endpoint}/api/v1/policies/{name}/{version}`` with the API key.

    Policy versions are immutable, so an answer is kept for good; the body's ``policy`` must
    hash to its ``digest``. ``transport`` is an ``httpx`` transport seam for tests.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        timeout: float = 5.0,
        transport: Any = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._transport = transport
        self._client: Any = None
        self._cache: dict[str, PolicySet] = {}
        self._lock = threading.Lock()

    def get_policy(self, ref: str) -> PolicySet:
        hit = self._cache.get(ref)
        if hit is not None:
            return hit
        import httpx  # here, not at import: keeps ``import agentdeck`` light

        r = parse_ref(ref)
        url = f"{self.endpoint}/api/v1/policies/{r.name}/{r.version}"
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout, transport=self._transport)
            try:
                resp = self._client.get(url, headers=self._headers)
            except httpx.HTTPError as exc:
                raise StoreError(f"GET {url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            raise StoreError(f"GET {url}: HTTP {resp.status_code}: {resp.text[:200]}")
        try:
            body = resp.json()
            policy = parse_policy_spec(body["policy"], url)  # network input: full validation
        except Exception as exc:
            raise StoreError(f"GET {url}: not a policy version: {exc}") from None
        if body.get("digest") not in (None, policy.digest):
            raise StoreError(f"GET {url}: the policy does not hash to its digest {body['digest']}")
        self._cache[ref] = policy
        return policy

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
