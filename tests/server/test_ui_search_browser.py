"""The runs page's search box in a real browser (Debian chromium via Playwright) against a
live server: a query typed and submitted swaps the table through htmx, keeps the query in the
URL, and a malformed query shows the one-line error naming the position."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from store.test_search import A, B, C, D, S, _llm, _run, _tool

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    tmp = tmp_path_factory.mktemp("search-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    store.write_batch(
        [_run(A, 1 * S, input="parcel", attributes={"tags": ["vip"]}),
         _run(B, 2 * S, input="refund please", attributes={"tags": ["vip"]}),
         _run(C, 3 * S, input="cancel"), _run(D, 4 * S, input="hello")],
        [_tool(B, "refund", {"order": "o-7"}, "accepted", 2 * S), _llm(A, "in Rotterdam", S)],
    )  # fmt: skip
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _shown(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all("#runs tr.run-row", "rows => rows.map(r => r.dataset.traceId)")
    )


def test_search_box_filters_the_runs(site: Any, browser: Any, tmp_path: Path) -> None:
    server, key = site
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    sign_in(page, key, "#run-count")
    expect(page.locator("#run-count")).to_have_text("4")
    page.fill("#f-q", "tag:vip -rotterdam")
    page.press("#f-q", "Enter")
    expect(page.locator("#run-count")).to_have_text("1")  # no eval: the CSP forbids it
    assert _shown(page) == {B}
    assert "q=tag%3Avip" in page.url or "q=tag:vip" in page.url
    page.fill("#f-q", "rotterdam OR cancel")
    page.press("#f-q", "Enter")
    expect(page.locator("#run-count")).to_have_text("2")
    assert _shown(page) == {A, C}
    page.fill("#f-q", "cost>")
    page.press("#f-q", "Enter")
    expect(page.locator("#runs p.error")).to_have_text(
        "query.q: position 6: expected a value after 'cost>'"
    )
    page.screenshot(path=str(tmp_path / "search.png"), full_page=True)
    assert page.js_errors == []
