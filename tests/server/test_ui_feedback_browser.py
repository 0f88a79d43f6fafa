"""Thumbs up/down on the run page, in a real browser (Debian chromium via Playwright) against a
live server with a strict CSP: the click posts through htmx (HX-Request), the feedback list
swaps in, the unknown outcome is set, and the audit chain names the signed-in key."""

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
from run_summary_data import record_runs

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, dict, str]]:
    tmp = tmp_path_factory.mktemp("feedback-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    ids = record_runs(store, tmp)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, ids, url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def test_thumbs_down_records_feedback_and_sets_the_outcome(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, key, ids, url = site
    denied = ids["denied"]
    page, _ = open_page(browser, f"{server.url}/ui/runs/{denied}")
    sign_in(page, key, "#run-feedback")
    page.fill("#run-feedback .feedback-comment", "refund never made")
    page.click("#run-feedback .feedback-down")
    expect(page.locator("#run-feedback .feedback-row")).to_have_count(1)
    expect(page.locator("#run-feedback .feedback-by")).to_have_text("viewer")
    expect(page.locator("#run-feedback .feedback-label")).to_have_text("thumbs_down")
    expect(page.locator("#run-feedback .feedback-outcome")).to_be_visible()
    page.click("#run-feedback .feedback-up")
    expect(page.locator("#run-feedback .feedback-row")).to_have_count(2)
    assert page.js_errors == []
    store = open_store(url)
    try:
        run = store.get_run(denied)
        assert run is not None and str(run.outcome) == "failure"
        assert run.outcome_reason == "feedback by viewer"
        assert [f.label for f in store.list_feedback(denied)] == ["thumbs_down", "thumbs_up"]
        assert store.list_feedback(denied)[0].comment == "refund never made"
        audit = [e for e in store.audit_entries() if e.action == "run.feedback"]
        assert [e.actor for e in audit] == ["viewer", "viewer"]
    finally:
        store.close()


def test_a_post_without_htmx_header_is_refused(site: Any) -> None:
    import httpx

    server, key, ids, _ = site
    resp = httpx.post(
        f"{server.url}/ui/runs/{ids['clean']}/feedback",
        content="label=thumbs_up",
        headers={"Authorization": f"Bearer {key}",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert resp.status_code == 403 and "HX-Request" in resp.text
