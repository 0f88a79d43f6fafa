"""Projects in the web UI, in a real browser (Debian chromium via Playwright) against a live
server: each project's runs are kept apart, the nav names the current project, and an
all-projects key's switcher swaps the runs list, the environments page and the monitors page
to the chosen project's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port
from playwright.sync_api import expect

from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model import Run, SpanStatus
from agentdeck.registry.keys import create_key
from agentdeck.registry.projects import create_project
from agentdeck.registry.service import Registry
from agentdeck.store import open_store
from foundation import spec_dict

pytestmark = BROWSER_MARKS
S = 1_000_000_000
A_RUN, B_RUN = "a" * 32, "b" * 32


def _run(tid: str, agent: str, project: str) -> Run:
    return Run(tid, agent, 1, None, "production", None, 5 * S, 6 * S, SpanStatus.OK,
               project=project)  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("projects-ui")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    create_project(store, "team-b", "test")
    keys = {
        "root": create_key(store, "root", ["admin"], "test", all_projects=True).token,
        "b": create_key(store, "b-viewer", ["read"], "test", project="team-b").token,
    }
    store.write_batch([_run(A_RUN, "alpha-bot", "default"), _run(B_RUN, "beta-bot", "team-b")], [])
    registry = Registry(store)
    for name, project in (("alpha-bot", "default"), ("beta-bot", "team-b")):
        registry.register_agent(AgentSpec.from_dict(spec_dict(name=name)), "test", project=project)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, keys
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _shown(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all("#runs tr.run-row", "rows => rows.map(r => r.dataset.traceId)")
    )


def test_the_switcher_swaps_the_runs_to_the_chosen_project(site: Any, browser: Any) -> None:
    server, keys = site
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    sign_in(page, keys["root"], "#run-count")
    assert _shown(page) == [A_RUN]
    expect(page.locator("#project-switch")).to_have_value("default")
    page.select_option("#project-switch", "team-b")
    page.wait_for_function("document.querySelector('#project-switch').value === 'team-b'")
    expect(page.locator("#run-count")).to_have_text("1")
    page.wait_for_selector(f"tr.run-row[data-trace-id='{B_RUN}']")
    assert _shown(page) == [B_RUN]
    assert "beta-bot" in page.inner_text("#runs")
    # the choice holds across pages; a run of the other project is not found
    page.goto(f"{server.url}/ui/runs/{A_RUN}")
    expect(page.locator("main")).to_contain_text("no run with that id")
    page.goto(f"{server.url}/ui/runs/{B_RUN}")
    expect(page.locator("main")).to_contain_text("beta-bot")
    page.goto(f"{server.url}/ui/runs")
    page.select_option("#project-switch", "default")
    page.wait_for_selector(f"tr.run-row[data-trace-id='{A_RUN}']")
    assert _shown(page) == [A_RUN]
    assert page.js_errors == []


def test_a_project_key_sees_its_project_only_and_no_switcher(site: Any, browser: Any) -> None:
    server, keys = site
    page, _ = open_page(browser, f"{server.url}/ui/runs")
    sign_in(page, keys["b"], "#run-count")
    expect(page.locator("#project-name")).to_have_text("team-b")
    assert page.locator("#project-switch").count() == 0
    assert _shown(page) == [B_RUN]
    refused = page.goto(f"{server.url}/ui/runs/{A_RUN}")
    assert refused is not None and refused.status == 404
    # the environments and monitors pages hold the project's agent only; another's is not found
    page.goto(f"{server.url}/ui/envs")
    assert _timelines(page) == {"beta-bot"}
    page.goto(f"{server.url}/ui/monitors")
    assert _picker(page) == ["beta-bot"]
    refused = page.goto(f"{server.url}/ui/monitors?agent=alpha-bot")
    assert refused is not None and refused.status == 404
    assert page.js_errors == []


def _timelines(page: Any) -> set[str]:
    """The agents of the environments page's timelines."""
    page.wait_for_selector("#promotion-path")
    return set(page.eval_on_selector_all("div.timeline", "ts => ts.map(t => t.dataset.agent)"))


def _picker(page: Any) -> list[str]:
    """The agents of the monitors page's picker."""
    page.wait_for_selector("#monitor-filters")
    return list(page.eval_on_selector_all("#m-agent option", "os => os.map(o => o.value)"))


def test_the_switcher_swaps_the_envs_and_monitors_pages(site: Any, browser: Any) -> None:
    server, keys = site
    page, _ = open_page(browser, f"{server.url}/ui/envs")
    sign_in(page, keys["root"], "#promotion-path")
    assert _timelines(page) == {"alpha-bot"}
    with page.expect_navigation():
        page.select_option("#project-switch", "team-b")
    expect(page.locator("#project-switch")).to_have_value("team-b")
    assert _timelines(page) == {"beta-bot"}
    page.goto(f"{server.url}/ui/monitors")
    assert _picker(page) == ["beta-bot"]
    with page.expect_navigation():
        page.select_option("#project-switch", "default")
    expect(page.locator("#project-switch")).to_have_value("default")
    assert _picker(page) == ["alpha-bot"]
    page.goto(f"{server.url}/ui/envs")
    assert _timelines(page) == {"alpha-bot"}
    assert page.js_errors == []
