"""Every web UI page in a real browser at a desktop and a phone width, with layout facts asserted.

The pages come from the app's router: every ``GET /ui...`` route must be listed in
:data:`PAGES` (with the URL that shows it on the seeded store) or in :data:`NOT_PAGES` (with why
it has no screenshot), so a page added without a screenshot fails
:func:`test_every_ui_route_is_screenshot_tested`. To add a page: one line in :data:`PAGES`,
and, if it needs an id, seed it in :func:`_seed` and return it among the seeded ids.

Each page is opened in Debian's chromium (Playwright) at 1400 and 390 px wide against a live
``agentdeck serve`` on a demo-like store (two versions promoted through three envs and rolled
back in production, runs of both versions with failures, monitor traffic with a baseline,
alerts, approvals, eval results) and must: answer as expected, show the nav bar, not scroll
sideways (``scrollWidth <= innerWidth``), render no visible text under 10 px (graph labels at
their rendered size included), and raise no JS error or CSP violation. Full-page PNGs land in
the ``ui-screens`` tmp dir (its path is printed; ``AGENTDECK_SCREENS=DIR`` keeps them there).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from demo_data import demo_run
from fastapi.routing import APIRoute
from live import LiveServer, free_port
from monitor_data import seed_history

import agentdeck.server.ui as ui_pkg
from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.policy import approvals
from agentdeck.policy.approvals import ApprovalRequest
from agentdeck.registry.keys import create_key
from agentdeck.server.app import discover
from agentdeck.store import open_store
from agentdeck.tracing.sdk.sink import HttpSink
from foundation import spec_dict

pytestmark = BROWSER_MARKS

#: Route path -> the URL that shows it, formatted with the ids :func:`_seed` returns.
PAGES: dict[str, str] = {
    "/ui/runs": "/ui/runs",
    "/ui/runs/{run_id}": "/ui/runs/{run_id}",
    "/ui/registry": "/ui/registry",
    "/ui/registry/{name}": "/ui/registry/{agent}",
    "/ui/envs": "/ui/envs",
    "/ui/envs/plan": "/ui/envs/plan?action=promote&agent={agent}&env=production&version=2",
    "/ui/monitors": "/ui/monitors?agent={agent}&env=production&window=6h",
    "/ui/evals": "/ui/evals",
    "/ui/alerts": "/ui/alerts",
    "/ui/approvals": "/ui/approvals",
    "/ui/queues": "/ui/queues",
    "/ui/queues/{queue}": "/ui/queues/{queue}",
}
#: GET routes under /ui that are not pages, and why.
NOT_PAGES = {
    "/ui": "redirects to /ui/runs",
    "/ui/login.js": "the sign-in page's script",
    "/ui/canary/{name}": "an htmx fragment of the environments page (its canary panel)",
    "/ui/runs/{run_id}/suite": "an htmx fragment of the run page (the add-to-suite form)",
    "/ui/queues/{queue}/items/{position}": "an htmx fragment of a queue's page (one run)",
}
#: More states worth a screenshot: name -> (URL, expected status, signed in).
STATES: dict[str, tuple[str, int, bool]] = {
    "login": ("/ui/runs", 401, False),
    "not-found": ("/ui/runs/{missing}", 404, True),
    "rollback-plan": (
        "/ui/envs/plan?action=rollback&agent={agent}&env=production&version=2",
        200,
        True,
    ),
    "runs-page-2": ("{runs_page_2}", 200, True),
}
WIDTHS = (1400, 390)
MIN_TEXT_PX = 10


def _alert(n: int, severity: str, now: datetime) -> AlertRecord:
    at = now - timedelta(minutes=10 * n)
    return AlertRecord(
        id=f"{n:02d}" + "a" * 30, rule=f"rule-{n}", subject="support-bot@production",
        agent_name="support-bot", env="production", severity=severity, status="open",
        message=f"rule-{n}: value 3 >= 1; drifted vs baseline calm", value=3.0,
        opened_at=at, last_seen_at=at, updated_at=at, updated_by="agentdeck-monitor",
    )  # fmt: skip


def _approval(tool: str, amount: int, trace_id: str | None) -> ApprovalRequest:
    return ApprovalRequest(
        tool=tool, args={"order_id": f"A{amount}", "amount": amount}, policy_name="refunds",
        policy_version=1, policy_digest="sha256:" + "cd" * 32, rules=("big-refund",),
        message="refunds over 200 need a human", explanation="", agent_name="support-bot",
        agent_version=2, env="production", trace_id=trace_id,
    )  # fmt: skip


def _eval(version: int, digest: str, passed: tuple[bool, ...]) -> EvalResult:
    cases = tuple(
        CaseResult(f"case-{i}", ok, () if ok else ("expected issue_refund to be called",), None, 2)
        for i, ok in enumerate(passed)
    )
    return EvalResult(f"res{version}" + "0" * 28, "refunds", "sha256:" + "1" * 64, "support-bot",
                      version, digest, datetime.now(UTC), "ci", cases, 1234.0)  # fmt: skip


def _seed(url: str, server: LiveServer, keys: dict[str, str], now: datetime) -> dict[str, str]:
    """Registry, deployments (rolled back in production), runs, baseline and eval results
    through the API and the SDK's sink; returns the ids the page URLs need."""
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"})
    for prompt in ("You help customers.\nBe brief.", "You help customers.\nBe warm and brief."):
        spec = spec_dict(name="support-bot", system_prompt=prompt)
        assert api.post("/api/v1/agents", json={"spec": spec}).status_code == 200
    for ref in ("support-bot@1", "support-bot@2"):
        for env in ("dev", "staging", "production"):
            r = api.post("/api/v1/deployments/promote", json={"ref": ref, "env": env})
            assert r.status_code == 200, r.text
    r = api.post("/api/v1/deployments/rollback", json={"agent": "support-bot", "env": "production"})
    assert r.status_code == 200, r.text
    since = now - timedelta(hours=2)
    made = api.post(
        "/api/v1/baselines",
        json={"name": "calm", "agent": "support-bot", "env": "production",
              "since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    t0 = int(now.timestamp() * 1e9)
    runs = [
        demo_run(version=1 + i % 2, fail=i % 7 == 3, start_ns=t0 - i * 10**9) for i in range(60)
    ]
    quoted, spans = runs[0]
    text = "I'd like a refund <b>now</b> & \u00e9t\u00e9"
    runs[0] = (
        dataclasses.replace(quoted, input=text),
        [dataclasses.replace(s, inputs={"input": text}) if s.parent_id is None else s
         for s in spans],
    )  # fmt: skip
    sink = HttpSink(server.url, keys["ingest"])
    sink.write_batch([r for r, _ in runs], [s for _, spans in runs for s in spans])
    sink.close()
    store = open_store(url)
    try:
        for n, sev in ((1, "critical"), (2, "warning")):  # after the promotions: a gate fails
            store.put_alert(_alert(n, sev, now))
        for v in (1, 2):
            digest = api.get(f"/api/v1/agents/support-bot@{v}").json()["digest"]
            result = _eval(v, digest, (True, True, v == 1, True))
            store.put_eval_result(result, AuditEvent("ci", "eval.result", f"support-bot@{v}", {}))
    finally:
        store.close()
    failed = next(r.trace_id for r, _ in runs if r.status.value == "error")
    page = api.get("/api/v1/runs", params={"limit": 50, "agent": "support-bot"})
    labels = [{"name": "correct", "pass": True}, {"name": "wrong", "pass": False}]
    queue = api.post("/api/v1/queues", json={"name": "triage", "schema": {"labels": labels}})
    assert queue.status_code == 201, queue.text
    return {
        "run_id": failed,
        "quoted_run": runs[0][0].trace_id,
        "quoted_text": text,
        "agent": "support-bot",
        "missing": "0" * 32,
        "queue": queue.json()["id"],
        "runs_page_2": "/ui/runs?agent=support-bot&cursor=" + page.headers["X-Next-Cursor"],
    }


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, dict[str, str], dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("screens-site")
    url = f"sqlite:///{tmp / 'ui.db'}"
    store = open_store(url)
    keys = {
        "admin": create_key(store, "alice-admin", ["admin"], "test").token,
        "ingest": create_key(store, "sdk", ["ingest"], "test").token,
    }
    now = datetime.fromtimestamp(seed_history(store) / 1e9, UTC)
    for n, tool in enumerate(("issue_refund", "delete_user")):
        approvals.open_request(store, _approval(tool, 250 + n, None), 600, now=now)
    store.close()
    server = LiveServer(url, free_port(), tmp / "server.log").start()
    try:
        yield server, keys, _seed(url, server, keys, now)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("AGENTDECK_SCREENS")
    path = Path(where) if where else tmp_path_factory.mktemp("ui-screens")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nUI screenshots in {path}")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture(scope="module")
def session(browser: Any, site: Any) -> dict[str, Any]:
    """The signed-in browser state (the session cookie), shared by every page's context."""
    server, keys, _ = site
    page, resp = open_page(browser, f"{server.url}/ui/runs")
    assert resp.status == 401
    sign_in(page, keys["admin"])
    state: dict[str, Any] = page.context.storage_state()
    page.context.close()
    return state


def test_every_ui_route_is_screenshot_tested() -> None:
    routes = {
        r.path
        for module in discover(ui_pkg)  # what create_app mounts
        for r in module.router.routes
        if isinstance(r, APIRoute) and r.path.startswith("/ui") and "GET" in (r.methods or ())
    }
    assert routes == set(PAGES) | set(NOT_PAGES), (
        "a /ui page without a screenshot (add it to PAGES) or a stale entry: "
        f"{sorted(routes ^ (set(PAGES) | set(NOT_PAGES)))}"
    )


LAYOUT = """(MIN_PX) => {
  const doc = document.scrollingElement;
  const small = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || el.closest('script, style, [hidden]')) continue;
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    if (px < MIN_PX) small.push(el.tagName + ' ' + px + 'px: ' + n.textContent.trim().slice(0, 40));
  }
  // a column squeezed to a letter's width: its header cell stacks the letters (4+ lines)
  const squeezed = [...document.querySelectorAll('th')].filter(th => {
    const lh = parseFloat(getComputedStyle(th).fontSize) * 1.6;
    return th.offsetParent && th.textContent.trim() && th.getBoundingClientRect().height > 4 * lh;
  }).map(th => th.textContent.trim());
  const cy = window.agentdeckGraph;
  const labels = cy ? cy.nodes().map(n => parseFloat(n.style('font-size')) * cy.zoom()) : [];
  return {scrollWidth: doc.scrollWidth, innerWidth: window.innerWidth,
          nav: document.querySelectorAll('header.top nav a').length,
          small: small.slice(0, 10), labels: labels, squeezed: squeezed};
}"""


def _shoot(browser: Any, session: dict[str, Any] | None, url: str, width: int) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": 900}, storage_state=session)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    page.js_errors = errors
    resp = page.goto(url)
    page.wait_for_load_state("networkidle")
    if page.locator("#graph").count():
        page.wait_for_selector("#graph canvas")
        page.wait_for_function(
            "() => window.agentdeckGraph && window.agentdeckGraph.nodes().length"
        )
    return page, resp


def _check(page: Any, name: str, width: int, screens: Path, *, nav: bool) -> dict[str, Any]:
    page.screenshot(path=str(screens / f"{name}-{width}.png"), full_page=True)
    page.screenshot(path=str(screens / f"{name}-{width}-top.png"))  # what the first screen shows
    facts: dict[str, Any] = page.evaluate(LAYOUT, MIN_TEXT_PX)
    assert facts["scrollWidth"] <= facts["innerWidth"], f"{name} scrolls sideways: {facts}"
    if nav:
        assert facts["nav"] >= 5, f"{name}: no nav bar"
    assert facts["squeezed"] == [], f"{name}: columns squeezed to a letter: {facts['squeezed']}"
    assert facts["small"] == [], f"{name}: text under {MIN_TEXT_PX}px: {facts['small']}"
    assert all(px >= MIN_TEXT_PX for px in facts["labels"]), (
        f"{name}: graph labels under {MIN_TEXT_PX}px: {facts['labels']}"
    )
    assert page.js_errors == [], page.js_errors
    return facts


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("route", list(PAGES))
def test_page_renders_with_nav_without_sideways_scroll_or_tiny_text(
    route: str, width: int, site: Any, browser: Any, session: Any, screens: Path
) -> None:
    server, _, seeded = site
    page, resp = _shoot(browser, session, server.url + PAGES[route].format(**seeded), width)
    try:
        assert resp.status == 200, (route, resp.status)
        name = route.strip("/").replace("/", "_").replace("{", "").replace("}", "")
        _check(page, name, width, screens, nav=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("state", list(STATES))
def test_page_state_renders_within_the_width(
    state: str, width: int, site: Any, browser: Any, session: Any, screens: Path
) -> None:
    server, _, seeded = site
    path, status, signed_in = STATES[state]
    page, resp = _shoot(
        browser, session if signed_in else None, server.url + path.format(**seeded), width
    )
    try:
        assert resp.status == status, (state, resp.status)
        _check(page, state, width, screens, nav=state != "login")
    finally:
        page.context.close()
