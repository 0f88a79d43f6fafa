"""The canary panel of the environments page in a real browser (Debian chromium, strict CSP):
it loads by htmx under each agent's timeline, the Start button starts a canary through the
audited service path, the panel shows both arms with their bounds and the stop rules, and
Abort stops it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.composition import all_gates
from agentdeck.core.deploy.model import GateConfig
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.keys import create_key
from agentdeck.registry.service import Registry
from agentdeck.store import open_store
from canary_support import spec

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str, str]]:
    tmp = tmp_path_factory.mktemp("canary-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    reg = Registry(store)
    reg.register_agent(spec("v1"), "test")
    reg.register_agent(spec("v2"), "test")
    deps = Deployments(store, reg, gates=all_gates())
    # the server checks every capability's gates: none of them is the subject here
    deps.set_gate_config(GateConfig("production", {}, tuple(g.name for g in all_gates())), "test")
    deps.promote("bot@1", "production", "test")
    key = create_key(store, "releaser", ["read", "deploy"], "test").token
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, key, url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def test_start_see_and_abort_a_canary_from_the_environments_page(site: Any, browser: Any) -> None:
    server, key, url = site
    page, _ = open_page(browser, f"{server.url}/ui/envs")
    sign_in(page, key, "#env-production")
    panel = page.locator("#env-production .canary-panel")
    expect(panel.locator(".canary-start")).to_be_visible()
    panel.locator(".canary-share-input").fill("20")
    panel.locator(".canary-start").click()
    expect(panel.locator(".canary-state")).to_have_text("running")
    expect(panel.locator(".canary-share")).to_have_text("20 % of runs")
    expect(panel.locator(".canary-step")).to_have_text("20")
    expect(panel.locator(".canary-metric")).to_have_count(9)
    expect(panel.locator(".canary-metric[data-metric=tool_error] td").last).to_contain_text(
        "lower bound above 0"
    )
    expect(panel.locator(".canary-decision")).to_contain_text("hold")
    panel.locator(".canary-abort").click()
    expect(panel.locator(".canary-state")).to_have_text("aborted")
    assert page.js_errors == []
    store = open_store(url)
    try:
        actions = [e.action for e in store.audit_entries() if e.subject == "bot@production"]
        assert actions[-2:] == ["deployment.canary.start", "deployment.canary.abort"]
        assert [e.actor for e in store.audit_entries()][-1] == "releaser"
    finally:
        store.close()
