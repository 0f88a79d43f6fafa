"""The web UI in a real browser: Debian's chromium driven by Playwright, against a live server
seeded through the API (registry, deployments) and the SDK's HttpSink (runs). Each test clicks
through pages, asserts on what is shown, and saves a screenshot of each page in its tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from demo_data import demo_run
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from agentdeck.tracing.sdk.sink import HttpSink
from foundation import spec_dict

pytestmark = BROWSER_MARKS


def _seed(server: LiveServer, keys: dict[str, str]) -> dict[str, Any]:
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"})
    for prompt in (
        "You help customers.\nBe brief.",
        "You help customers.\nBe warm and brief.\nNever refund over 500.",
    ):
        spec = spec_dict(name="support-bot", system_prompt=prompt)
        assert api.post("/api/v1/agents", json={"spec": spec}).status_code == 200
    for ref, env in [("support-bot@1", e) for e in ("dev", "staging", "production")] + [
        ("support-bot@2", e) for e in ("dev", "staging", "production")
    ]:
        r = api.post("/api/v1/deployments/promote", json={"ref": ref, "env": env})
        assert r.status_code == 200, r.text
    runs = [demo_run(version=2), demo_run(version=2, fail=True), demo_run(version=1, env="staging")]
    sink = HttpSink(server.url, keys["ingest"])
    sink.write_batch([r for r, _ in runs], [s for _, spans in runs for s in spans])
    sink.close()
    return {"failed": runs[1][0].trace_id}


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str], dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    keys = {
        "admin": create_key(store, "alice-admin", ["admin"], "test").token,
        "read": create_key(store, "bob-viewer", ["read"], "test").token,
        "ingest": create_key(store, "sdk", ["ingest"], "test").token,
    }
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, keys, _seed(server, keys)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _sign_in(browser: Any, server: LiveServer, key: str) -> Any:
    page, resp = open_page(browser, f"{server.url}/ui/runs")
    assert resp.status == 401 and page.locator("#login").is_visible()
    return sign_in(page, key, "#run-count")


def test_runs_list_filters_and_a_runs_graph_waterfall_and_steps(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, seeded = site
    page = _sign_in(browser, server, keys["read"])
    assert page.inner_text("#run-count") == "3"
    assert page.inner_text("#key-name") == "bob-viewer"
    page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
    page.select_option("#f-status", "error")  # htmx swaps the table in place
    expect(page.locator("#run-count")).to_have_text("1")  # no eval: the page's CSP forbids it
    assert "status=error" in page.url
    page.screenshot(path=str(tmp_path / "runs-filtered.png"), full_page=True)
    page.click(f"tr[data-trace-id='{seeded['failed']}'] a")
    page.wait_for_selector("#graph canvas")
    assert page.inner_text("#trace-id") == seeded["failed"]
    assert page.inner_text("#run-status") == "error"
    graph = page.evaluate(
        """() => { const cy = window.agentdeckGraph;
              const ys = cy.nodes().map(n => Math.round(n.position('y')));
              return {nodes: cy.nodes().length,
                      edges: cy.edges().map(e => e.data('kind')).sort(),
                      dagre: typeof cytoscape('layout', 'dagre') === 'function',
                      ranks: new Set(ys).size}; }"""
    )
    assert graph["nodes"] == 5
    assert graph["edges"] == ["data", "parent", "parent", "parent", "parent", "policy"]
    assert graph["dagre"] and graph["ranks"] >= 2  # laid out by dagre, top to bottom
    assert page.locator("#waterfall .wf-row").count() == 5
    page.click("details.step[data-kind='llm'] > summary")
    llm = page.locator("details.step[data-kind='llm']")
    assert "Context window (2 messages)" in llm.inner_text()
    assert "Refund order A-17 please" in llm.locator("ol.messages").inner_text()
    page.click("details.step[data-kind='tool'] > summary")
    tool = page.locator("details.step[data-kind='tool']")
    assert '"order_id": "A-17"' in tool.locator("pre.args").inner_text()
    assert "upstream 500" in tool.inner_text()
    page.click("details.step[data-kind='policy'] > summary")
    assert (
        '"effect": "allow"'
        in page.locator("details.step[data-kind='policy'] pre.decision").inner_text()
    )
    page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    assert page.js_errors == []
    assert all((tmp_path / f).stat().st_size > 10_000 for f in ("runs.png", "run.png"))


def test_registry_shows_versions_and_the_semantic_diff_side_by_side(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, _ = site
    page = _sign_in(browser, server, keys["read"])
    page.click("header nav a:has-text('Registry')")
    page.wait_for_selector("#agents")
    assert page.locator("#agents .agent-row").count() == 1
    page.screenshot(path=str(tmp_path / "registry.png"), full_page=True)
    page.click("#agents a:has-text('support-bot')")
    page.wait_for_selector("#diff-changes")
    assert page.locator("#versions .version-row").count() == 2
    assert (page.inner_text("#diff-a"), page.inner_text("#diff-b")) == (
        "support-bot@1",
        "support-bot@2",
    )
    assert page.locator("#diff-changes tr.change[data-section='prompt']").count() == 1
    left = page.locator("#prompt-diff tr.replace td.left").all_inner_texts()
    right = page.locator("#prompt-diff tr td.right").all_inner_texts()
    assert "Be brief." in left and "Never refund over 500." in right
    page.screenshot(path=str(tmp_path / "diff.png"), full_page=True)
    assert page.js_errors == []


def test_environments_timeline_and_rollback_button_records_the_key_name(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, _ = site
    viewer = _sign_in(browser, server, keys["read"])
    viewer.goto(f"{server.url}/ui/envs")
    assert viewer.locator("button.rollback").count() == 0  # read scope: no rollback button
    page = _sign_in(browser, server, keys["admin"])
    page.click("header nav a:has-text('Environments')")
    assert page.inner_text("#promotion-path") == "dev → staging → production"
    prod = page.locator("#env-production .timeline[data-agent='support-bot']")
    assert prod.locator("li.deployment").count() == 2
    assert prod.locator("li.deployment").first.locator(".version").inner_text() == "@2"
    button = prod.locator("button.rollback")
    assert button.inner_text() == "Roll back production to support-bot@1"  # the exact version
    page.screenshot(path=str(tmp_path / "envs.png"), full_page=True)
    with page.expect_navigation():
        button.click()  # the plan page: what would happen, then the confirm button
    assert page.inner_text("#plan-title") == "Roll back production to support-bot@1?"
    assert page.inner_text("#plan-current") == "support-bot@2"
    page.fill("#plan-reason", "refund confirmations broken")
    with page.expect_navigation():
        page.click("#confirm-deploy")
    prod = page.locator("#env-production .timeline[data-agent='support-bot']")
    newest = prod.locator("li.deployment").first
    assert newest.get_attribute("class").split()[1] == "rollback"
    assert newest.locator(".version").inner_text() == "@1"
    assert newest.locator(".actor").inner_text() == "alice-admin"
    assert newest.locator(".reason").inner_text() == "refund confirmations broken"
    assert "health-bad" in prod.locator("li.deployment").nth(1).get_attribute("class")
    page.screenshot(path=str(tmp_path / "envs-rolled-back.png"), full_page=True)
    assert page.js_errors == []


def test_environments_promote_picks_a_version_and_shows_the_gates_first(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, _ = site
    page = _sign_in(browser, server, keys["admin"])
    page.goto(f"{server.url}/ui/envs")
    dev = page.locator("#env-dev .timeline[data-agent='support-bot'] form.promote")
    dev.locator("select.version-picker").select_option("1")
    assert dev.locator("button").inner_text() == "Promote support-bot@1 to dev"  # follows the pick
    with page.expect_navigation():
        dev.locator("button").click()
    assert page.inner_text("#plan-title") == "Promote support-bot@1 to dev?"
    assert page.locator("#gate-results tr.gate-row").count() >= 1
    page.screenshot(path=str(tmp_path / "plan.png"), full_page=True)
    with page.expect_navigation():
        page.click("#confirm-deploy")
    newest = page.locator("#env-dev .timeline[data-agent='support-bot'] li.deployment").first
    assert newest.locator(".version").inner_text() == "@1"
    assert newest.locator(".actor").inner_text() == "alice-admin"
    assert page.js_errors == []
