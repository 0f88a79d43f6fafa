"""Provisional runs in the web UI, in a real browser (Debian chromium via Playwright) against a
live server: the runs list shows a "provisional" badge, with its explanation as a tooltip, on
the provisional run's row and on no other; the run page shows the badge and the explanation;
a real run's page shows neither. Screenshots are saved in each test's tmp dir."""

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
from provisional_data import write_both

pytestmark = BROWSER_MARKS
NOTE = "derived from child spans; the root span has not arrived"


@pytest.fixture(scope="module")
def prov_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, dict]]:
    """A live server over a store holding one real run and one provisional run."""
    tmp = tmp_path_factory.mktemp("prov-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "bob-viewer", ["read"], "test").token
    prov, real = write_both(store)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, {"provisional": prov.trace_id, "real": real.trace_id}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _runs_page(browser: Any, server: LiveServer, key: str) -> Any:
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    return sign_in(page, key, "#run-count")


def test_runs_list_badges_the_provisional_run_only(
    prov_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, key, ids = prov_site
    page = _runs_page(browser, server, key)
    assert page.inner_text("#run-count") == "2"
    badge = page.locator(f"tr[data-trace-id='{ids['provisional']}'] .badge.provisional")
    assert badge.is_visible() and badge.inner_text() == "provisional"
    assert NOTE in (badge.get_attribute("title") or "")  # the tooltip explains it
    real_row = page.locator(f"tr[data-trace-id='{ids['real']}']")
    assert real_row.is_visible() and real_row.locator(".badge.provisional").count() == 0
    assert page.locator("#runs .badge.provisional").count() == 1
    page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
    page.select_option("#f-status", "ok")  # htmx swaps the table: only the real run is left
    expect(page.locator("#run-count")).to_have_text("1")  # no eval: the page's CSP forbids it
    assert page.locator("#runs .badge.provisional").count() == 0
    page.select_option("#f-status", "error")  # the count stays 1: wait for the row itself
    page.wait_for_selector(f"tr[data-trace-id='{ids['provisional']}'] .badge.provisional")
    assert page.locator(f"tr[data-trace-id='{ids['provisional']}'] .badge.provisional").is_visible()
    assert page.js_errors == []


def test_run_page_says_provisional_and_why_for_that_run_only(
    prov_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, key, ids = prov_site
    page = _runs_page(browser, server, key)
    page.click(f"tr[data-trace-id='{ids['provisional']}'] a")
    page.wait_for_selector("#graph canvas")
    assert page.inner_text("#trace-id") == ids["provisional"]
    badge = page.locator("#run-provisional")
    assert badge.is_visible() and badge.inner_text() == "provisional"
    assert NOTE in (badge.get_attribute("title") or "")
    note = page.locator("#provisional-note")
    assert note.is_visible() and NOTE in note.inner_text()
    assert page.locator("#waterfall .wf-row").count() == 2  # the child spans, as roots
    page.screenshot(path=str(tmp_path / "run-provisional.png"), full_page=True)
    page.goto(f"{server.url}/ui/runs/{ids['real']}")
    page.wait_for_selector("#graph canvas")
    assert page.inner_text("#run-status") == "ok"
    assert page.locator("#run-provisional").count() == 0
    assert page.locator("#provisional-note").count() == 0
    assert page.js_errors == []
