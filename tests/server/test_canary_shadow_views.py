"""A shadow's pairs and divergences where people look (SQLite and PostgreSQL, real uvicorn):
the API's canary status and the environments page's canary panel."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from server_support import make_keys

from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from app_thread import serve_in_thread
from shadow_support import generous, loop, setup, traffic


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def test_the_api_and_the_env_page_show_the_shadow_pairs_and_divergences(
    store: SqlStore,
) -> None:
    canaries, _ = setup(store, generous())
    canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    traffic(6, seed=4)
    assert loop(canaries, 0)[0].shadow_once() == 6
    keys = make_keys(store)
    url, stop = serve_in_thread(create_app(store, gates=[]))
    try:
        r = httpx.get(f"{url}/api/v1/canaries/support-bot", params={"env": "production"},
                      headers=keys.header("read"))  # fmt: skip
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["shadow"] is True
        assert body["judgement"]["shadow"] == {"pairs": 6, "divergences": 6}
        assert body["judgement"]["candidate_runs"] == 6
        page = httpx.get(f"{url}/ui/canary/support-bot", params={"env": "production"},
                         headers=keys.header("read"))  # fmt: skip
        assert page.status_code == 200, page.text
        assert '<b class="shadow-pairs">6</b> pairs' in page.text
        assert '<b class="shadow-divergences">6</b> diverged' in page.text
    finally:
        stop()
