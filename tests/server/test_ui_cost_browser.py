"""Cost in a real browser (Debian chromium via Playwright) against a live server: the runs
list's tokens and cost columns (``unpriced`` for a model with no price), the run page's header,
and the monitors page's cost chart with one line per version."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.registry.keys import create_key
from agentdeck.registry.service import Registry
from agentdeck.store import open_store
from foundation import make_spec

pytestmark = BROWSER_MARKS


def _record(store: Any) -> dict[str, str]:
    reg = Registry(store)
    v1, _ = reg.register_agent(make_spec("pricey-bot"), "test")
    v2, _ = reg.register_agent(make_spec("pricey-bot", prompt="You help, briefly."), "test")
    now = time.time_ns() - 60 * 10**9
    ids: dict[str, str] = {}
    for i, (av, model, n_in) in enumerate(
        [
            (v1, "gpt-4o-2024-08-06", 400_000),
            (v2, "gpt-4o-2024-08-06", 100_000),
            (v2, "mystery-x", 50),
        ]
    ):
        tid, t = f"{i + 1:032x}", now + i * 10**9
        store.write_batch(
            [Run(tid, "pricey-bot", av.version, av.digest, "production", None, t, t + 5 * 10**6, SpanStatus.OK)],
            [Span(tid, f"{i + 1:016x}", None, f"chat {model}", SpanKind.LLM, t, t + 10**6,
                  attributes={"llm.model": model}, usage=TokenUsage(n_in, 1000))],
        )  # fmt: skip
        ids[f"run{i + 1}"] = tid
    return ids


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, str, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("cost-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    ids = _record(store)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, ids
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def test_runs_list_and_run_page_show_tokens_and_cost(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, key, ids = site
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    sign_in(page, key, "#run-count")
    row1 = page.locator(f"tr[data-trace-id='{ids['run1']}']")
    expect(row1.locator("td.tokens")).to_have_text("401,000")
    expect(row1.locator("td.cost")).to_have_text("$1.01")  # 400k x $2.50 + 1k x $10 per Mtok
    unpriced = page.locator(f"tr[data-trace-id='{ids['run3']}'] td.cost")
    expect(unpriced).to_have_text("unpriced")
    assert "no known price" in (unpriced.get_attribute("title") or "")
    page.screenshot(path=str(tmp_path / "runs-cost.png"), full_page=True)
    page.goto(f"{server.url}/ui/runs/{ids['run2']}")
    expect(page.locator("#run-cost")).to_have_text("$0.2600")  # the run page's header
    assert page.js_errors == []


def test_monitors_page_charts_the_cost_per_version(site: Any, browser: Any, tmp_path: Path) -> None:
    server, key, _ = site
    page, _ = open_page(
        browser, f"{server.url}/ui/monitors?agent=pricey-bot&env=production&window=1h"
    )
    sign_in(page, key, "#chart-cost canvas")
    versions = page.evaluate("() => window.agentdeckCost.data.versions")
    assert versions == ["pricey-bot@1", "pricey-bot@2"]
    spent = page.evaluate(
        "() => Object.fromEntries(Object.entries(window.agentdeckCost.data.cost)"
        ".map(([v, xs]) => [v, xs.reduce((a, x) => a + (x || 0), 0)]))"
    )
    assert spent["pricey-bot@1"] == pytest.approx(1.01)
    assert spent["pricey-bot@2"] == pytest.approx(0.26)
    expect(page.locator("#cost-unpriced")).to_contain_text("1 unpriced call")
    page.screenshot(path=str(tmp_path / "monitors-cost.png"), full_page=True)
    assert page.js_errors == []
