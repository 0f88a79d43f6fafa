"""Resolving agent references through the server (``GET /api/v1/resolve?ref=...``).

Used by the SDK when it sends to a server (``AGENTDECK_ENDPOINT``). ``name@N`` and
``name@sha256:...`` never change meaning and are cached for good; ``name@ENV`` and a bare name
follow deployments: after ``ttl`` seconds the cached answer is still served at once while a
background thread fetches the new one, so only the very first resolution of a reference does
network I/O on the caller's thread (bounded by ``timeout``); a failed first resolution is
remembered for ``ttl`` seconds, so an unreachable server is not asked again on every run. The returned spec must hash to the
returned digest, or the answer is refused.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from agentdeck.core.errors import ReferenceError_, StoreError
from agentdeck.core.refs import parse_ref
from agentdeck.core.spec import AgentSpec, ResolvedAgent


class HttpResolver:
    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        ttl: float = 5.0,
        timeout: float = 2.0,
        transport: Any = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.ttl = ttl
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._transport = transport
        self._client: Any = None
        self._cache: dict[str, tuple[float, ResolvedAgent]] = {}
        self._refreshing: set[str] = set()
        self._failed: dict[str, tuple[float, Exception]] = {}
        self._lock = threading.Lock()

    def resolve(self, ref: str) -> ResolvedAgent:
        with self._lock:
            hit = self._cache.get(ref)
        if hit is None:
            with self._lock:
                failed = self._failed.get(ref)
            if failed is not None and time.monotonic() - failed[0] < self.ttl:
                raise failed[1]  # a server that just failed is not asked again on every run
            try:
                return self._fetch_and_cache(ref)
            except Exception as exc:
                with self._lock:
                    self._failed[ref] = (time.monotonic(), exc)
                raise
        stamp, value = hit
        if stamp != float("inf") and time.monotonic() - stamp >= self.ttl:
            self._refresh_in_background(ref)
        return value

    def _refresh_in_background(self, ref: str) -> None:
        with self._lock:
            if ref in self._refreshing:
                return
            self._refreshing.add(ref)

        def work() -> None:
            try:
                self._fetch_and_cache(ref)
            except Exception:  # keep serving the cached answer; try again after the next TTL
                with self._lock:
                    stamp_value = self._cache.get(ref)
                    if stamp_value is not None:
                        self._cache[ref] = (time.monotonic(), stamp_value[1])
            finally:
                with self._lock:
                    self._refreshing.discard(ref)

        threading.Thread(target=work, name="agentdeck-resolve", daemon=True).start()

    def _fetch_and_cache(self, ref: str) -> ResolvedAgent:
        resolved = self._fetch(ref)
        r = parse_ref(ref)
        stamp = (
            float("inf") if (r.version is not None or r.digest is not None) else time.monotonic()
        )
        with self._lock:
            self._cache[ref] = (stamp, resolved)
        return resolved

    def _fetch(self, ref: str) -> ResolvedAgent:
        import httpx  # here, not at import: keeps ``import agentdeck`` light

        url = f"{self.endpoint}/api/v1/resolve"
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._timeout, transport=self._transport)
            client = self._client
        try:
            resp = client.get(url, params={"ref": ref}, headers=self._headers)
        except httpx.HTTPError as exc:
            raise StoreError(f"GET {url}?ref={ref}: {type(exc).__name__}: {exc}") from None
        if resp.status_code == 404:
            raise ReferenceError_(ref, _error_text(resp))
        if resp.status_code != 200:
            raise StoreError(f"GET {url}?ref={ref}: HTTP {resp.status_code}: {_error_text(resp)}")
        try:
            body = resp.json()
            spec = AgentSpec.from_dict(body["spec"])
            resolved = ResolvedAgent(
                name=str(body["name"]),
                version=int(body["version"]),
                digest=str(body["digest"]),
                spec=spec,
                env=body.get("env"),
                deployment_id=body.get("deployment_id"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"GET {url}?ref={ref}: malformed answer ({exc})") from None
        if spec.digest != resolved.digest:
            raise StoreError(f"GET {url}?ref={ref}: the spec does not hash to the digest given")
        return resolved


def _error_text(resp: Any) -> str:
    try:
        return str(resp.json().get("error") or resp.text)
    except ValueError:
        return str(resp.text)[:200]
