"""Approvals through the server: the approver of an SDK that sends to ``AGENTDECK_ENDPOINT``.

:class:`HttpApprover` is :class:`~agentdeck.policy.approvals.StoreApprover` over the API, for
an agent that has no database of its own: it opens the request with
``POST {endpoint}/api/v1/approvals`` (the server writes it to the store exactly as the
embedded approver does, so ``agentdeck policy approve ID`` and ``POST .../approve`` decide it
alike), then polls ``GET {endpoint}/api/v1/approvals/{id}`` with exponential backoff until it
is decided.

**Who owns the deadline.** The server does: the request carries ``timeout_s`` and the server
stores ``expires_at``; reading or deciding a request past it expires it first. So this
approver never needs to reach the server to give up, and a request whose agent vanished
cannot be granted late. At its own deadline (counted from before the request was opened, so
never after the server's) it keeps polling briefly (``grace`` seconds) to read that
``expired``, or a decision made at the last moment, which is honoured.

**Fail-closed.** Nothing here raises into the guard: a request that cannot be opened (server
down, key refused, bad answer) denies at once with the reason; while waiting, transport errors
and 5xx answers are retried with the backoff (a human may still be deciding), and the call is
denied at the deadline if the server never answered again; 401/403/404 deny at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.policy.approvals import ApprovalOutcome, ApprovalRequest, outcome_for

__all__ = ["HttpApprover"]

_NAME = "http"
_DECIDED = ("granted", "denied", "expired")


class _Failed(Exception):
    """A request to the server that did not give a usable answer; ``retry``: worth asking
    again (the transport failed or the server erred), rather than refused for good."""

    def __init__(self, reason: str, retry: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


class HttpApprover:
    """Asks for approval through the server's API; see the module docstring.

    ``timeout``: seconds until the request expires (sent as ``timeout_s``); polls every
    ``poll_initial`` seconds, doubling up to ``poll_max``; ``grace``: how long past the
    deadline to wait for the server to report the expiry. ``http_timeout`` bounds each HTTP
    request. ``transport`` (an ``httpx`` transport), ``sleep`` and ``clock`` are test seams.
    """

    def __init__(
        self,
        endpoint: str,
        api_key: str | None = None,
        *,
        timeout: float = 300.0,
        poll_initial: float = 0.05,
        poll_max: float = 2.0,
        grace: float = 5.0,
        http_timeout: float = 5.0,
        transport: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise InputError(f"HttpApprover: timeout must be positive, not {timeout}")
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.poll_initial = poll_initial
        self.poll_max = poll_max
        self.grace = grace
        self._headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._http_timeout = http_timeout
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._client: Any = None
        self._lock = threading.Lock()

    def approve(self, request: ApprovalRequest) -> ApprovalOutcome:
        deadline = self._clock() + self.timeout  # before opening: never later than the server's
        try:
            opened = self._call("POST", "/api/v1/approvals", _body(request, self.timeout))
            rid = str(opened["id"])
        except _Failed as exc:
            return ApprovalOutcome(False, _NAME, f"approval request not opened: {exc.reason}")
        except Exception as exc:  # a body we could not encode, an answer without an id
            return ApprovalOutcome(
                False, _NAME, f"approval request not opened: {type(exc).__name__}: {exc}"
            )
        try:
            return self._wait(rid, deadline)
        except Exception as exc:  # never into the guard: deny with what went wrong
            return ApprovalOutcome(
                False, _NAME, f"approval wait failed: {type(exc).__name__}: {exc}", rid
            )

    def _wait(self, rid: str, deadline: float) -> ApprovalOutcome:
        delay = self.poll_initial
        unanswered: str | None = None  # the last failure, while the server does not answer
        while True:
            try:
                rec = self._call("GET", f"/api/v1/approvals/{rid}")
                unanswered = None
                status = rec.get("status")
                if status in _DECIDED:
                    return outcome_for(rid, status, rec.get("decided_by"), rec.get("reason"))
                if status != "pending":
                    return ApprovalOutcome(
                        False, _NAME, f"approval request {rid}: unknown status {status!r}", rid
                    )
            except _Failed as exc:
                if not exc.retry:
                    return ApprovalOutcome(
                        False, _NAME, f"approval request {rid} unreadable: {exc.reason}", rid
                    )
                unanswered = exc.reason
            now = self._clock()
            if now >= deadline + self.grace:
                why = (
                    f"approval server unreachable: {unanswered}"
                    if unanswered
                    else f"the server still reports it pending {self.grace:g}s after the deadline"
                )
                return ApprovalOutcome(
                    False, _NAME, f"approval required: request {rid} not decided ({why})", rid
                )
            left = deadline - now
            self._sleep(min(delay, left) if left > 0 else self.poll_initial)
            delay = min(delay * 2, self.poll_max)

    def _call(self, method: str, path: str, content: bytes | None = None) -> dict[str, Any]:
        import httpx  # here, not at import: keeps ``import agentdeck`` light

        url = self.endpoint + path
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(timeout=self._http_timeout, transport=self._transport)
            client = self._client
        try:
            resp = client.request(method, url, content=content, headers=self._headers)
        except httpx.HTTPError as exc:
            raise _Failed(f"{method} {url}: {type(exc).__name__}: {exc}", retry=True) from None
        if resp.status_code >= 300:
            raise _Failed(
                f"{method} {url}: HTTP {resp.status_code}: {_error_of(resp)}",
                retry=resp.status_code >= 500 or resp.status_code == 429,
            )
        try:
            body = resp.json()
        except ValueError:
            raise _Failed(f"{method} {url}: not JSON: {resp.text[:200]}", retry=True) from None
        if not isinstance(body, dict):
            raise _Failed(f"{method} {url}: not an approval request: {body!r:.200}", retry=False)
        return body

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


def _body(request: ApprovalRequest, timeout: float) -> bytes:
    """The ``POST /api/v1/approvals`` body: the request's stored fields and the timeout
    (arguments that JSON cannot hold are sent as their ``str``, as the store keeps them)."""
    import orjson

    return orjson.dumps(
        {
            "tool": request.tool, "args": dict(request.args),
            "policy_name": request.policy_name, "policy_version": request.policy_version,
            "policy_digest": request.policy_digest, "rules": list(request.rules),
            "message": request.message, "agent_name": request.agent_name,
            "agent_version": request.agent_version, "agent_digest": request.agent_digest,
            "env": request.env, "trace_id": request.trace_id, "span_id": request.span_id,
            "timeout_s": timeout,
        },
        default=str,
    )  # fmt: skip


def _error_of(resp: Any) -> str:
    try:
        body = resp.json()
    except ValueError:
        return str(resp.text[:200])
    return str(body.get("error", body) if isinstance(body, dict) else body)[:300]
