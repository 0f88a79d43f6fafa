"""The monitors page over twelve hours of traffic in a real browser (Debian chromium via
Playwright) against a live server: the window from the URL is the one selected, the incident
is a step in each chart, and the tool-mix chart is painted (not blank)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from monitor_hours_data import seed_hours

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store

pytestmark = BROWSER_MARKS

# The share of a chart's canvas painted in colour (the axes and grid are grey).
PAINTED = """(sel) => { const c = document.querySelector(sel + ' canvas');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < px.length; i += 4) {
    const hi = Math.max(px[i], px[i + 1], px[i + 2]), lo = Math.min(px[i], px[i + 1], px[i + 2]);
    if (px[i + 3] > 128 && hi - lo > 60) { n++; }
  }
  return n / (c.width * c.height); }"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    tmp = tmp_path_factory.mktemp("monitor-hours")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    key = create_key(store, "viewer", ["read"], "test").token
    seed_hours(store)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _before_after(values: list[Any]) -> tuple[list[float], list[float]]:
    """The buckets wholly before the incident (the first five of twelve hourly buckets) and
    wholly after it (the last five)."""
    assert len(values) == 12 and all(v is not None for v in values), values
    return values[:5], values[7:]


def test_the_incident_is_a_step_in_each_chart(site: Any, browser: Any, tmp_path: Path) -> None:
    server, key = site
    page, _ = open_page(browser, f"{server.url}/ui/monitors?agent=support-bot&window=12h")
    sign_in(page, key, "#chart-drift canvas")
    assert page.locator("#m-window").input_value() == "12h"
    d = page.evaluate("() => window.agentdeckMonitor.data")
    before, after = _before_after(d["tool_share"]["escalate"])
    assert max(before) + 0.2 < min(after)  # tool mix
    before, after = _before_after(d["validity"])
    assert min(before) > max(after) + 0.1  # argument validity
    before, after = _before_after(d["errors"])
    assert max(before) + 0.1 < min(after)  # error rate
    before, after = _before_after(d["drift_score"])
    assert max(before) == 0 < min(after)  # drift vs the calm baseline
    assert page.evaluate(PAINTED, "#chart-tools") > 0.3  # stacked areas fill the plot
    page.screenshot(path=str(tmp_path / "monitors-12h.png"), full_page=True)
    page.select_option("#m-window", "24h")  # the selector submits: the URL carries it
    page.wait_for_url("**window=24h**")
    page.wait_for_selector("#chart-drift canvas")
    assert page.locator("#m-window").input_value() == "24h"
    assert "over the last 24h" in page.inner_text("#monitor-summary")
    assert page.js_errors == []


def test_one_busy_bucket_still_paints_the_tool_mix(site: Any, browser: Any) -> None:
    # Over 7 days in 48 buckets of 3.5 h, the twelve hours fill four buckets, the first and
    # last partly; over 30 days in 2 buckets they fill one: its shares are drawn as points.
    server, key = site
    page, _ = open_page(browser, f"{server.url}/ui/monitors?agent=support-bot&window=30d&buckets=2")
    sign_in(page, key, "#chart-tools canvas")
    d = page.evaluate("() => window.agentdeckMonitor.data")
    assert [n > 0 for n in d["runs"]] == [False, True]
    assert page.evaluate(PAINTED, "#chart-tools") > 0.0005
    assert page.js_errors == []
