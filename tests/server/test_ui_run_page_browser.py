"""The run page of a long multi-agent run in a real browser (Debian chromium via Playwright)
against a live server: graph labels stay readable (never below 11 px: the graph pans instead
of shrinking), say each kind once, and the hand-off is an edge between the two agents; the
span tree beside the graph collapses and selects; expand all / collapse all; a step's link to
its offered tool set opens it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from long_run_data import long_run

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, dict]]:
    tmp = tmp_path_factory.mktemp("run-page-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    run, spans, ids = long_run()
    store.write_batch([run], spans)
    ids["spans"] = len(spans)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, ids
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _run_page(site: Any, browser: Any, width: int = 1400) -> tuple[Any, dict]:
    server, key, ids = site
    page, _ = open_page(browser, f"{server.url}/ui/runs/{ids['trace_id']}", width=width)
    sign_in(page, key, "#trace-id")
    page.wait_for_selector("#graph canvas")
    return page, ids


def test_graph_labels_stay_readable_say_the_kind_once_and_show_the_hand_off(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    page, ids = _run_page(site, browser)
    graph = page.evaluate(
        """() => { const cy = window.agentdeckGraph;
              return {nodes: cy.nodes().length,
                      label_px: cy.nodes().map(n => cy.zoom() * parseFloat(n.style('font-size'))),
                      labels: cy.nodes().map(n => n.data('label')),
                      handoffs: cy.edges("[kind = 'handoff']").map(e => [e.source().id(), e.target().id()])}; }"""
    )
    assert graph["nodes"] == ids["spans"] == 29
    assert min(graph["label_px"]) >= 11  # auto-fit would have drawn 29 nodes at ~5 px
    doubled = [lb for lb in graph["labels"] if re.match(r"^(\w+): \1\b", lb)]
    assert doubled == [] and "policy support-refunds" in graph["labels"]
    assert "agent: billing-bot" in graph["labels"]  # no "[billing-bot]" repeated under it
    assert graph["handoffs"] == [[ids["triage"], ids["billing"]]]
    page.screenshot(path=str(tmp_path / "run-graph.png"))
    assert page.js_errors == []


def test_the_span_tree_collapses_and_selects_the_span_in_the_graph(site: Any, browser: Any) -> None:
    page, ids = _run_page(site, browser)
    tree = page.locator("#span-tree")
    assert tree.locator("a.tree-node").count() == ids["spans"]
    failing = tree.locator(f"a.tree-node[data-span-id='{ids['failing']}']")
    assert "err" in (failing.get_attribute("class") or "")
    failing.click()
    selected = page.evaluate("() => agentdeckGraph.nodes(':selected').map(n => n.id())")
    assert selected == [ids["failing"]]
    assert page.locator(f"#step-{ids['failing']}").evaluate("d => d.open")  # the link opens it
    billing = tree.locator(f"details:has(> summary a[data-span-id='{ids['billing']}'])")
    billing.locator("> summary").click(position={"x": 2, "y": 6})  # the marker, not the link
    assert not billing.evaluate("d => d.open")
    assert not failing.is_visible()
    assert page.js_errors == []


def test_expand_all_and_collapse_all_and_the_tool_set_link(site: Any, browser: Any) -> None:
    page, ids = _run_page(site, browser)
    steps = page.locator("#steps details.step")
    assert steps.count() == ids["spans"]
    closed = "ds => ds.filter(d => !d.open).length"
    assert steps.evaluate_all(closed) == ids["spans"]
    page.click("#expand-all")
    assert steps.evaluate_all(closed) == 0
    height_open = page.evaluate("() => document.documentElement.scrollHeight")
    page.click("#collapse-all")
    assert steps.evaluate_all(closed) == ids["spans"]
    assert page.evaluate("() => document.documentElement.scrollHeight") < height_open
    page.click("#expand-all")
    ref = page.locator("p.tools-ref a").last
    target = ref.get_attribute("href")
    assert target and page.locator(target).evaluate("d => !d.open")
    ref.click()
    assert page.locator(target).evaluate("d => d.open")
    assert "lookup_order" in page.locator(f"{target} pre").inner_text()
    assert page.js_errors == []


def test_at_390_px_the_tree_goes_under_the_graph_and_the_content_fits_the_width(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    page, _ = _run_page(site, browser, width=390)
    graph = page.locator("#graph").bounding_box()
    tree = page.locator("#span-tree").bounding_box()
    assert graph and tree and tree["y"] >= graph["y"] + graph["height"]
    # the page's content (the layout's header bar is the layout's business) fits the width
    assert page.evaluate("() => document.querySelector('main').scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "run-390.png"), full_page=True)
    assert page.js_errors == []
