"""The Approvals page in a real browser (Debian chromium via Playwright) against a live server:
a read key sees the queue without buttons; a deploy key approves a pending request by clicking
and htmx swaps the row to granted without reloading the page; a request decided elsewhere
meanwhile is refused in place (409) with the reason. Screenshots are saved in the tmp dir."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_support import BROWSER_MARKS, launch_chromium, open_page, sign_in
from live import LiveServer, free_port

from agentdeck.policy import approvals
from agentdeck.policy.approvals import ApprovalRequest
from agentdeck.registry.keys import create_key
from agentdeck.store import open_store

pytestmark = BROWSER_MARKS


def _request(tool: str, amount: int, trace_id: str | None) -> ApprovalRequest:
    return ApprovalRequest(
        tool=tool, args={"order_id": f"A{amount}", "amount": amount}, policy_name="refunds",
        policy_version=1, policy_digest="sha256:" + "cd" * 32, rules=("big-refund",),
        message="refunds over 200 need a human", explanation="", agent_name="support-bot",
        agent_version=2, env="production", trace_id=trace_id,
    )  # fmt: skip


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[LiveServer, dict[str, str], str]]:
    """A live server on a fresh SQLite file with keys and three pending requests."""
    url = f"sqlite:///{tmp_path / 'approvals.db'}"
    store = open_store(url)
    keys = {
        "admin": create_key(store, "alice-admin", ["admin"], "test").token,
        "read": create_key(store, "bob-viewer", ["read"], "test").token,
    }
    now = datetime.now(UTC)
    for n, tool in enumerate(("issue_refund", "issue_refund", "delete_user")):
        approvals.open_request(
            store, _request(tool, 250 + n, "0af7651916cd43dd8448eb211c80319c" if n else None),
            600, now=now - timedelta(minutes=3 - n),
        )  # fmt: skip
    store.close()
    server = LiveServer(url, free_port(), tmp_path / "server.log").start()
    try:
        yield server, keys, url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch_chromium()


def _page(browser: Any, server: LiveServer, key: str, path: str) -> Any:
    page, _ = open_page(browser, f"{server.url}{path}", width=1500, height=900)
    sign_in(page, key)  # the page reloads, signed in
    page.wait_for_load_state("load")
    return page


def test_a_read_key_sees_the_queue_without_buttons(site: Any, browser: Any, tmp_path: Path) -> None:
    server, keys, _ = site
    page = _page(browser, server, keys["read"], "/ui/approvals")
    assert page.locator("#approvals tr.approval-row.status-pending").count() == 3
    assert page.locator("button.approval-action").count() == 0
    assert "deploy" in page.inner_text("#read-only-note")
    assert page.inner_text("#pending-count") == "3 pending"
    assert page.locator("header.top nav a.active").inner_text() == "Approvals"
    page.screenshot(path=str(tmp_path / "approvals-read.png"), full_page=True)
    assert page.js_errors == []


def test_approving_by_click_swaps_the_row_to_granted_without_a_reload(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, url = site
    page = _page(browser, server, keys["admin"], "/ui/approvals")
    rows = page.locator("#approvals tr.approval-row")
    assert rows.count() == 3 and page.locator("button.approval-action.approve").count() == 3
    row = rows.first  # the newest pending request
    approval_id = row.get_attribute("data-approval-id")
    assert row.locator("td.tool").inner_text() == "delete_user"
    page.screenshot(path=str(tmp_path / "approvals-before.png"), full_page=True)
    page.evaluate("() => { window.__sameDocument = true; }")  # lost on any reload
    row.locator("input.reason").fill("checked with the customer")
    row.locator("button.approval-action.approve").click()
    granted = page.locator(f"#approval-{approval_id}.status-granted")
    granted.wait_for()
    assert granted.locator(".approval-status").inner_text() == "granted"
    assert granted.locator(".decided-by").inner_text() == "alice-admin"
    assert granted.locator(".decided-reason").inner_text() == "checked with the customer"
    assert granted.locator("button.approval-action").count() == 0
    assert page.evaluate("() => window.__sameDocument === true")
    assert page.inner_text("#pending-count") == "2 pending"  # updated with the row
    assert page.locator("button.approval-action.approve").count() == 2
    assert page.locator("#action-error").is_hidden()
    page.screenshot(path=str(tmp_path / "approvals-granted.png"), full_page=True)
    store = open_store(url)
    try:
        rec = store.get_approval(approval_id)
        assert rec is not None and rec.status == "granted" and rec.decided_by == "alice-admin"
        assert rec.reason == "checked with the customer"
        assert [e.action for e in store.audit_entries() if e.subject == approval_id] == [
            "policy.approve"
        ]
    finally:
        store.close()
    assert page.js_errors == []


def test_a_request_decided_meanwhile_is_refused_in_place(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, _ = site
    page = _page(browser, server, keys["admin"], "/ui/approvals")
    row = page.locator("#approvals tr.approval-row").last
    approval_id = row.get_attribute("data-approval-id")
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"}
    ) as api:  # someone else rejects it after the page was loaded
        done = api.post(f"/api/v1/approvals/{approval_id}/reject", json={"reason": "fraud"})
        assert done.status_code == 200
    page.evaluate("() => { window.__sameDocument = true; }")
    row.locator("button.approval-action.approve").click()
    refused = page.locator(f"#approval-{approval_id}.status-denied")
    refused.wait_for()
    assert "already denied by alice-admin" in refused.locator(".decide-error").inner_text()
    assert refused.locator(".decided-reason").inner_text() == "fraud"
    assert refused.locator("button.approval-action").count() == 0
    assert page.evaluate("() => window.__sameDocument === true")
    assert page.locator("#action-error").is_hidden()
    page.screenshot(path=str(tmp_path / "approvals-refused.png"), full_page=True)
    assert page.js_errors == []


def test_a_refused_click_shows_the_reason_and_leaves_the_row_pending(
    site: Any, browser: Any, tmp_path: Path
) -> None:
    server, keys, _ = site
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"}
    ) as api:
        made = api.post("/api/v1/keys", json={"name": "dave-ops", "scopes": ["read", "deploy"]})
        assert made.status_code == 201
        page = _page(browser, server, made.json()["key"], "/ui/approvals")
        assert api.delete("/api/v1/keys/dave-ops").status_code == 200  # revoked meanwhile
    row = page.locator("#approvals tr.approval-row").first
    row.locator("button.approval-action.reject").click()
    box = page.locator("#action-error")
    box.wait_for(state="visible")
    assert "sign in again" in box.inner_text()
    assert row.locator(".approval-status").inner_text() == "pending"
    assert row.locator("fieldset.decide").is_enabled()  # the buttons are usable again
    page.screenshot(path=str(tmp_path / "approvals-error.png"), full_page=True)
    assert page.js_errors == []
