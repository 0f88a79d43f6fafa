"""Resolving agent references through the server (``GET /api/v1/resolve?ref=...``).

Used by the SDK when it sends to a server (``AGENTDECK_ENDPOINT``). Caching, background
refresh, the on-disk fallback and the bounded wait are
:class:`~agentdeck.registry.resolver.RefreshingResolver`'s: ``name@N`` and ``name@sha256:...``
are kept for good; ``name@ENV`` is served at once from what is known (memory, else the disk
cache) and refreshed off-thread after ``ttl`` seconds; with nothing known, the agent's thread
waits at most ``timeout`` seconds for the server (a hung server included), then gets
:class:`~agentdeck.registry.resolver.ResolveTimeout`. The returned spec must hash to the
returned digest, or the answer is refused.
"""

from __future__ import annotations

import threading
from typing import Any

from agentdeck.core.errors import StoreError, UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, CanarySplit, ResolvedAgent
from agentdeck.registry.resolver import RefreshingResolver
from agentdeck.registry.spec_cache import DiskCache


class HttpResolver(RefreshingResolver):
    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        ttl: float = 5.0,
        timeout: float = 2.0,
        transport: Any = None,
        disk: DiskCache | None = None,
    ) -> None:
        super().__init__(self._fetch, ttl=ttl, timeout=timeout, disk=disk)
        self.endpoint = endpoint.rstrip("/")
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._transport = transport
        self._client: Any = None
        self._client_lock = threading.Lock()

    def _fetch(self, ref: str) -> ResolvedAgent:
        import httpx  # here, not at import: keeps ``import agentdeck`` light

        url = f"{self.endpoint}/api/v1/resolve"
        with self._client_lock:
            if self._client is None:
                http_timeout = max(self.timeout or 0.0, 1.0)  # the caller's wait is bounded apart
                self._client = httpx.Client(timeout=http_timeout, transport=self._transport)
            client = self._client
        try:
            resp = client.get(url, params={"ref": ref}, headers=self._headers)
        except httpx.HTTPError as exc:
            raise StoreError(f"GET {url}?ref={ref}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 404:
            raise UnresolvedReferenceError(ref, _error_text(resp))
        if resp.status_code != 200:
            raise StoreError(f"GET {url}?ref={ref}: HTTP {resp.status_code}: {_error_text(resp)}")
        try:
            return _resolved(resp.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"GET {url}?ref={ref}: malformed answer ({exc})") from None


def _resolved(body: dict[str, Any]) -> ResolvedAgent:
    """The answer as a ResolvedAgent (with its canary split); a spec that does not hash to
    its digest is a ValueError."""
    spec = AgentSpec.from_dict(body["spec"])
    if spec.digest != str(body["digest"]):
        raise ValueError("the spec does not hash to the digest given")
    split = None
    raw = body.get("canary")
    if isinstance(raw, dict):
        split = CanarySplit(
            canary_id=str(raw["canary_id"]),
            share=float(raw["share"]),
            key=str(raw["key"]),
            candidate=_resolved(raw["candidate"]),
        )
    return ResolvedAgent(
        name=str(body["name"]),
        version=int(body["version"]),
        digest=str(body["digest"]),
        spec=spec,
        env=body.get("env"),
        deployment_id=body.get("deployment_id"),
        canary=split,
    )


def _error_text(resp: Any) -> str:
    try:
        return str(resp.json().get("error") or resp.text)
    except ValueError:
        return str(resp.text)[:200]
