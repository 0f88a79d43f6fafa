"""The review queue page and the run page's "add to suite" form, in a real browser (Debian
chromium via Playwright) against a live server with a strict CSP: j/k move, 1-9 choose a
label, s skips, enter submits; labels are stored with their feedback, as the signed-in key."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.core.annotations.schema import parse_label_schema
from agentdeck.evals.review.queues import create_queue
from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from run_summary_data import record_runs

pytestmark = BROWSER_MARKS

SCHEMA = {"labels": [{"name": "correct", "pass": True}, {"name": "wrong", "pass": False}],
          "scores": [{"name": "helpfulness", "min": 1, "max": 5}]}  # fmt: skip


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, str, dict, str, str]]:
    tmp = tmp_path_factory.mktemp("review-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "reviewer", ["read"], "test").token
    ids = record_runs(store, tmp)
    q = create_queue(store, "triage", parse_label_schema(SCHEMA, "t"), filters={}, by="t")
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, ids, url, q.queue_id
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _status(page: Any, position: int) -> Any:
    return page.locator(f'#review-items tr[data-position="{position}"] .review-status')


def test_the_keys_walk_label_and_skip_the_queue(site: Any, browser: Any) -> None:
    server, key, _ids, url, queue_id = site
    page, _ = open_page(browser, f"{server.url}/ui/queues/{queue_id}")
    sign_in(page, key, "#review-item")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "1")
    page.keyboard.press("j")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "2")
    expect(page.locator("#review-items tr.current")).to_have_attribute("data-position", "2")
    page.keyboard.press("k")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "1")
    first = page.locator("#review-item").get_attribute("data-run")
    page.keyboard.press("Enter")  # no label chosen yet: refused on the page, nothing posted
    expect(page.locator("#review-message")).to_have_text("choose a label first (1-9)")
    page.keyboard.press("2")
    expect(page.locator('.review-label[data-key="2"]')).to_have_class("review-label chosen")
    page.keyboard.press("Enter")
    expect(_status(page, 1)).to_have_text("labelled")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "2")  # next pending
    page.keyboard.press("s")
    expect(_status(page, 2)).to_have_text("skipped")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "3")
    page.keyboard.press("1")
    page.fill('#review-form input[name="score.helpfulness"]', "4")
    page.fill("#review-form .review-comment", "fine")
    page.locator("#review-form .review-comment").press("Enter")  # enter in the comment submits
    expect(_status(page, 3)).to_have_text("labelled")
    expect(page.locator("#review-item")).to_have_attribute("data-position", "4")
    page.keyboard.press("1")
    page.fill('#review-form input[name="score.helpfulness"]', "9")  # outside 1..5: refused
    page.keyboard.press("Escape")
    page.locator("#review-submit").click()
    expect(page.locator("#review-message")).to_contain_text(
        "form.scores.helpfulness: expected 1..5"
    )
    expect(_status(page, 4)).to_have_text("pending")
    assert page.js_errors == []
    store = open_store(url)
    try:
        given = {a.trace_id: a for a in store.list_annotations()}
        assert len(given) == 2 and given[first].label == "wrong" and given[first].by == "reviewer"
        third = next(a for t, a in given.items() if t != first)
        assert dict(third.scores) == {"helpfulness": 4.0} and third.comment == "fine"
        assert [f.label for f in store.list_feedback(first)] == ["wrong"]
        items = store.queue_items(queue_id)
        assert [str(i.status) for i in items] == ["labelled", "skipped", "labelled", "pending"]
    finally:
        store.close()


def test_the_run_page_adds_the_run_to_a_suite(site: Any, browser: Any) -> None:
    server, key, ids, url, _ = site
    page, _ = open_page(browser, f"{server.url}/ui/runs/{ids['clean']}")
    sign_in(page, key, "#run-dataset .dataset-form")
    page.fill("#run-dataset .dataset-suite", "prod-cases")
    page.click("#run-dataset .dataset-add")
    expect(page.locator("#run-dataset .dataset-added")).to_contain_text("of suite prod-cases")
    page.goto(f"{server.url}/ui/runs/{ids['raised']}")
    page.wait_for_selector("#run-dataset .dataset-form")
    page.fill("#run-dataset .dataset-suite", "prod-cases")
    page.click("#run-dataset .dataset-add")
    expect(page.locator("#run-dataset .dataset-error")).to_contain_text("form.expect: run")
    page.fill("#run-dataset .dataset-suite", "prod-cases")
    page.fill("#run-dataset .dataset-expect", "{max_steps: 0}")
    page.click("#run-dataset .dataset-add")
    expect(page.locator("#run-dataset .dataset-added")).to_be_visible()
    assert page.js_errors == []
    store = open_store(url)
    try:
        cases = store.dataset_cases("prod-cases")
        assert [c.trace_id for c in cases] == [ids["clean"], ids["raised"]]
        assert cases[1].case["expect"] == {"max_steps": 0}
    finally:
        store.close()
