"""Failed authentication is limited per client address (429 with Retry-After past the
threshold) on a real uvicorn server; valid keys are neither counted nor slowed nor refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from app_thread import serve_in_thread

LIMIT = 5


@pytest.fixture
def base_url(store: SqlStore) -> Iterator[str]:
    settings = ServerSettings(
        auth_failure_limit=LIMIT, auth_failure_window_s=600, behind_proxy=True
    )
    url, stop = serve_in_thread(create_app(store, settings))
    try:
        yield url
    finally:
        stop()


def _get(url: str, token: str, address: str = "203.0.113.7") -> httpx.Response:
    return httpx.get(
        f"{url}/api/v1/runs",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": f"10.0.0.1, {address}"},
        timeout=30,
    )


def test_failures_past_the_threshold_get_429_with_retry_after(
    base_url: str, store: SqlStore
) -> None:
    good = create_key(store, "reader", ["read"], "test").token
    for _ in range(50):  # successes are not counted
        assert _get(base_url, good).status_code == 200
    answers = [_get(base_url, "ak_000000000000_wrong").status_code for _ in range(LIMIT)]
    assert answers == [401] * LIMIT
    limited = _get(base_url, "ak_000000000000_wrong")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 600
    assert "too many failed" in limited.json()["error"]
    # the same address with a valid key: admitted at once; another address: still a plain 401
    started = time.monotonic()
    assert _get(base_url, good).status_code == 200
    assert time.monotonic() - started < 5
    assert _get(base_url, "ak_000000000000_wrong", address="198.51.100.9").status_code == 401
    # the browser's sign-in page says so too
    page = httpx.get(
        f"{base_url}/ui/runs",
        cookies={"agentdeck_session": "as_forged"},
        headers={"X-Forwarded-For": "203.0.113.7"},
        timeout=30,
    )
    assert page.status_code == 429 and "retry-after" in page.headers


def test_the_limiter_forgets_old_failures_and_bounds_its_memory() -> None:
    from agentdeck.server.ratelimit import FailureLimiter

    now = [0.0]
    limiter = FailureLimiter(limit=2, window_s=10, max_clients=3, clock=lambda: now[0])
    assert limiter.failed("a") is None and limiter.failed("a") is None
    assert limiter.failed("a") == 10
    now[0] = 4.0
    assert limiter.failed("a") == 6  # the oldest counted failure leaves the window at 10
    now[0] = 20.0
    assert limiter.failed("a") is None  # the window moved on
    for address in ("b", "c", "d", "e"):
        limiter.failed(address)
    assert limiter.tracked() == 3
