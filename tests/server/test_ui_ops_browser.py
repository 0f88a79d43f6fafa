"""The operations pages in a real browser (Debian chromium via Playwright): monitors with their
charts and drift report over demo-like traffic, alerts with an acknowledge click, eval results,
and a run page linking to its findings. Screenshots are saved in each test's tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from monitor_data import seed_history

from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from foundation import spec_dict

pytestmark = BROWSER_MARKS


def _alert(n: int, severity: str, now: datetime) -> AlertRecord:
    at = now - timedelta(minutes=10 * n)
    return AlertRecord(
        id=f"{n:02d}" + "a" * 30, rule=f"rule-{n}", subject="support-bot@production",
        agent_name="support-bot", env="production", severity=severity, status="open",
        message=f"rule-{n}: value 3 >= 1; drifted vs baseline calm", value=3.0,
        opened_at=at, last_seen_at=at, updated_at=at, updated_by="agentdeck-monitor",
    )  # fmt: skip


def _eval(version: int, digest: str, passed: tuple[bool, ...]) -> EvalResult:
    cases = tuple(
        CaseResult(f"case-{i}", ok, () if ok else ("expected issue_refund to be called",), None, 2)
        for i, ok in enumerate(passed)
    )
    return EvalResult(f"res{version}" + "0" * 28, "refunds", "sha256:" + "1" * 64, "support-bot",
                      version, digest, datetime.now(UTC), "ci", cases, 1234.0)  # fmt: skip


@pytest.fixture(scope="module")
def ops_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("ops")
    url = f"sqlite:///{tmp / 'ops.db'}"
    store = open_store(url)
    keys = {
        "admin": create_key(store, "alice-admin", ["admin"], "test").token,
        "read": create_key(store, "bob-viewer", ["read"], "test").token,
    }
    now = seed_history(store)
    now_dt = datetime.fromtimestamp(now / 1e9, UTC)
    for n, sev in ((1, "critical"), (2, "warning")):
        store.put_alert(_alert(n, sev, now_dt))
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"})
    try:
        for prompt in ("You help.", "You help, kindly."):
            spec = spec_dict(name="support-bot", system_prompt=prompt)
            assert api.post("/api/v1/agents", json={"spec": spec}).status_code == 200
        since = now_dt - timedelta(hours=2)
        made = api.post(
            "/api/v1/baselines",
            json={"name": "calm", "agent": "support-bot", "env": "production",
                  "since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()},
        )  # fmt: skip
        assert made.status_code == 201, made.text
        store = open_store(url)
        for v in (1, 2):
            digest = api.get(f"/api/v1/agents/support-bot@{v}").json()["digest"]
            result = _eval(v, digest, (True, True, v == 2, True))
            store.put_eval_result(result, AuditEvent("ci", "eval.result", f"support-bot@{v}", {}))
        store.close()
        yield server, keys
    finally:
        api.close()
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _page(browser: Any, server: LiveServer, key: str, path: str) -> Any:
    page, _ = open_page(browser, f"{server.url}{path}", width=1400, height=1000)
    sign_in(page, key)  # the page reloads, signed in
    page.wait_for_load_state("load")
    return page


def test_monitors_page_draws_the_charts_and_lists_the_drifted_metrics(
    ops_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys = ops_site
    page = _page(browser, server, keys["read"], "/ui/monitors?agent=support-bot&env=production")
    page.wait_for_selector("#chart-drift canvas")
    for chart in ("tools", "rates", "drift"):
        assert page.locator(f"#chart-{chart} canvas").count() == 1, chart
    legend = page.locator("#chart-tools .u-legend").inner_text()
    assert all(t in legend for t in ("lookup_order", "issue_refund", "escalate"))
    rates = page.locator("#chart-rates .u-legend").inner_text()
    assert all(s in rates for s in ("argument validity", "completion", "error rate"))
    assert "drift score" in page.locator("#chart-drift .u-legend").inner_text()
    data = page.evaluate("() => window.agentdeckMonitor.data")
    # The chart ends when the page is served, a few seconds (more on a loaded machine) after
    # the traffic was seeded: the oldest runs may have left the range.
    assert 430 <= sum(data["runs"]) <= 480 and data["baseline"] == "calm"
    half = len(data["drift_score"]) // 2
    assert max(data["drift_score"][half:]) > 1 and max(data["drifted_items"][: half - 1]) == 0
    assert page.inner_text("#baseline-name") == "calm"
    drifted = page.locator("#drift-table tr.drift-row.drifted")
    assert drifted.count() >= 1 and int(page.inner_text("#drifted-count")) == drifted.count()
    metrics = drifted.locator("td.mono").all_inner_texts()
    assert "tool_selection" in metrics
    page.screenshot(path=str(tmp_path / "monitors.png"), full_page=True)
    assert page.js_errors == []
    assert (tmp_path / "monitors.png").stat().st_size > 20_000


def test_alerts_page_acknowledges_an_alert_as_the_signed_in_key(
    ops_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys = ops_site
    viewer = _page(browser, server, keys["read"], "/ui/alerts")
    assert viewer.locator("#alerts tr.alert-row").count() == 2
    assert viewer.locator("button.alert-action").count() == 0  # read scope: no buttons
    page = _page(browser, server, keys["admin"], "/ui/alerts")
    row = page.locator("#alerts tr.alert-row").first
    assert row.locator(".badge.critical").count() == 1
    page.screenshot(path=str(tmp_path / "alerts.png"), full_page=True)
    alert_id = row.get_attribute("data-alert-id")
    with page.expect_navigation():
        row.locator("button.alert-action.ack").click()
    row = page.locator(f"#alerts tr[data-alert-id='{alert_id}']")
    assert row.locator(".alert-status").inner_text() == "acknowledged"
    assert row.locator(".updated-by").inner_text() == "alice-admin"
    assert row.locator("button.alert-action.ack").count() == 0
    page.screenshot(path=str(tmp_path / "alerts-acked.png"), full_page=True)
    assert page.js_errors == []


def test_evals_page_shows_pass_rates_and_case_verdicts_per_version(
    ops_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys = ops_site
    page = _page(browser, server, keys["read"], "/ui/evals")
    assert page.inner_text("#eval-count") == "2"
    v1 = page.locator("section.eval[data-agent='support-bot@1']")
    assert "3/4 passed (75%)" in v1.locator(".pass-rate").inner_text()
    assert v1.locator("tr.case-row.failed").count() == 1
    assert "expected issue_refund" in v1.locator("tr.case-row.failed").inner_text()
    v2 = page.locator("section.eval[data-agent='support-bot@2']")
    assert "4/4 passed" in v2.locator(".pass-rate").inner_text()
    page.screenshot(path=str(tmp_path / "evals.png"), full_page=True)
    assert page.js_errors == []


def test_run_page_lists_the_runs_findings_and_links_to_them(
    ops_site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys = ops_site
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"})
    failed = api.get("/api/v1/runs", params={"status": "error", "limit": 1}).json()[0]["trace_id"]
    checked = api.post(f"/api/v1/runs/{failed}/check").json()
    api.close()
    assert checked["findings"]
    page = _page(browser, server, keys["read"], f"/ui/runs/{failed}")
    page.wait_for_selector("#run-links")
    link = page.locator("#run-links a[href='#findings']")
    assert link.inner_text() == f"findings ({len(checked['findings'])})"
    link.click()
    rows = page.locator("#run-findings tr.finding-row")
    assert rows.count() == len(checked["findings"])
    assert {c["check"] for c in checked["findings"]} == set(
        rows.evaluate_all("rs => rs.map(r => r.dataset.check)")
    )
    assert page.inner_text("#run-scores") == "not scored"
    page.screenshot(path=str(tmp_path / "run-findings.png"), full_page=True)
