"""What happened in a run, in a real browser (Debian chromium via Playwright) against a live
server: the runs page's tool-error, denied and outcome filters swap the table through htmx, and
the run page's graph marks the failed eval like a failed step."""

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
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, dict]]:
    tmp = tmp_path_factory.mktemp("summary-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    ids = record_runs(store, tmp)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, ids
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _shown(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all("#runs tr.run-row", "rows => rows.map(r => r.dataset.traceId)")
    )


def test_runs_filters_swap_the_table(site: Any, browser: Any, tmp_path: Path) -> None:
    server, key, ids = site
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    sign_in(page, key, "#run-count")
    assert page.inner_text("#run-count") == "4"
    page.select_option("#f-has-errors", "true")
    expect(page.locator("#run-count")).to_have_text("2")  # no eval: the CSP forbids it
    assert _shown(page) == {ids["tool_err"], ids["denied"]}
    page.select_option("#f-denied", "true")
    expect(page.locator("#run-count")).to_have_text("1")  # no eval: the CSP forbids it
    assert _shown(page) == {ids["denied"]}
    assert "denied=true" in page.url and "has_errors=true" in page.url
    page.select_option("#f-denied", "")
    page.select_option("#f-has-errors", "")
    page.select_option("#f-outcome", "success")  # three changes in a row: the last one wins
    page.wait_for_url("**outcome=success**")
    assert "denied=true" not in page.url and "has_errors=true" not in page.url
    expect(page.locator("#run-count")).to_have_text("1")  # no eval: the CSP forbids it
    assert _shown(page) == {ids["clean"]}
    page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
    assert page.js_errors == []


def test_run_graph_marks_the_failed_eval(site: Any, browser: Any, tmp_path: Path) -> None:
    server, key, ids = site
    page, _ = open_page(browser, f"{server.url}/ui/runs/{ids['tool_err']}")
    sign_in(page, key, "#trace-id")
    page.wait_for_selector("#graph canvas")  # the graph is drawn (no eval: the CSP forbids it)
    nodes = page.evaluate(
        "() => agentdeckGraph.nodes().filter(n => n.data('kind') === 'eval')"
        ".map(n => [n.data('label'), n.data('status')])"
    )
    assert sorted(nodes) == [["eval tone", "ok"], ["✗ eval email-sent", "error"]]
    failed = page.locator("#step-" + _eval_span(page, "eval email-sent") + " .badge.failed")
    assert failed.inner_text() == "✗ failed"
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    assert page.js_errors == []


def _eval_span(page: Any, name: str) -> str:
    return str(
        page.evaluate(
            "(name) => JSON.parse(document.getElementById('graph-data').textContent).nodes"
            ".find(n => n.name === name).id",
            name,
        )
    )
