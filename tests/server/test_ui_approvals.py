"""The Approvals page (``/ui/approvals``) and its decide routes, on both backends: what a read
key and a deploy key see, grants and rejections through the page (stored, audited, by the
signed-in key), late decisions (409 with the row as it stands), unknown ids and forged posts."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.policy import approvals
from agentdeck.policy.approvals import ApprovalRequest
from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore

HX = {"HX-Request": "true"}


def _request(tool: str = "issue_refund", **over: object) -> ApprovalRequest:
    fields: dict[str, object] = {
        "tool": tool,
        "args": {"order_id": "A1", "amount": 250, "note": "<script>alert(1)</script>"},
        "policy_name": "refunds",
        "policy_version": 3,
        "policy_digest": "sha256:" + "ab" * 32,
        "rules": ("big-refund", "vip"),
        "message": "refunds over 200 need a human",
        "explanation": "",
        "agent_name": "support-bot",
        "agent_version": 2,
        "env": "production",
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
    }
    fields.update(over)
    return ApprovalRequest(**fields)  # type: ignore[arg-type]


def _open(
    store: SqlStore, ago: timedelta = timedelta(0), timeout: float = 300, **over: object
) -> ApprovalRecord:
    return approvals.open_request(store, _request(**over), timeout, now=datetime.now(UTC) - ago)


@pytest.fixture
def approver(store: SqlStore) -> dict[str, str]:
    """A read+deploy key (an operator who may decide), as a bearer header."""
    token = create_key(store, "alice-approver", ["read", "deploy"], "test").token
    return {"Authorization": f"Bearer {token}"}


def _rows(page: str) -> list[str]:
    """The ids of the approval rows, in page order."""
    return re.findall(r'<tr class="approval-row[^"]*" id="approval-([^"]+)"', page)


def _row(page: str, approval_id: str) -> str:
    match = re.search(rf'<tr [^>]*id="approval-{approval_id}".*?</tr>', page, re.S)
    assert match, f"no row for {approval_id}"
    return match.group(0)


def test_a_read_key_sees_the_queue_without_buttons(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    rec = _open(store, ago=timedelta(minutes=3))
    page = client.get("/ui/approvals", headers=keys.header("read"))
    assert page.status_code == 200
    row = _row(page.text, rec.id)
    for shown in ("issue_refund", "support-bot@2", "production", "refunds@3", "big-refund, vip",
                  "refunds over 200 need a human", "waiting 3m"):  # fmt: skip
        assert shown in row, shown
    assert re.search(r'class="expires[^"]*"[^>]*>in [12]m \d+s<', row)  # 5 min, 3 gone
    assert 'href="/ui/runs/0af7651916cd43dd8448eb211c80319c"' in row
    # the arguments are compact JSON, escaped: the page never carries the raw <script>
    args = re.search(r'<td class="clip args"[^>]*>(.*?)</td>', row)
    assert args and html.unescape(args.group(1)) == (
        '{"order_id":"A1","amount":250,"note":"<script>alert(1)</script>"}'
    )
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in row
    assert "approval-action" not in page.text and "hx-post" not in page.text
    assert 'id="read-only-note"' in page.text and "deploy" in page.text
    assert ">Approvals</a>" in page.text  # the nav link
    assert re.search(r'id="pending-count"[^>]*>1 pending<', page.text)


def test_a_deploy_key_sees_approve_and_reject_for_pending_requests_only(
    client: TestClient, approver: dict[str, str], store: SqlStore
) -> None:
    pending = _open(store, trace_id=None)
    done = _open(store, tool="delete_user")
    approvals.reject(store, done.id, "bob", "no")
    page = client.get("/ui/approvals", headers=approver).text
    assert 'id="read-only-note"' not in page
    row = _row(page, pending.id)
    assert f'hx-post="/ui/approvals/{pending.id}/approve"' in row
    assert f'hx-post="/ui/approvals/{pending.id}/reject"' in row
    assert 'name="reason"' in row and "run-link" not in row  # no trace id: no run link
    decided = _row(page, done.id)
    assert "hx-post" not in decided and 'denied by <b class="decided-by">bob</b>' in decided


def test_the_queue_lists_pending_first_then_newest_first_and_filters_by_status(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    old_pending = _open(store, ago=timedelta(minutes=2))
    new_pending = _open(store, ago=timedelta(minutes=1))
    granted = _open(store)  # the newest, but decided: after the pending ones
    approvals.grant(store, granted.id, "bob")
    overdue = _open(store, ago=timedelta(minutes=30), timeout=60)  # expired by the listing
    read = keys.header("read")
    everything = client.get("/ui/approvals", headers=read).text
    assert _rows(everything) == [new_pending.id, old_pending.id, granted.id, overdue.id]
    assert store.get_approval(overdue.id).status == "expired"  # type: ignore[union-attr]
    assert "expired by <b" in _row(everything, overdue.id)
    tabs = {
        "pending": [new_pending.id, old_pending.id],
        "granted": [granted.id],
        "denied": [],
        "expired": [overdue.id],
        "bogus": [new_pending.id, old_pending.id, granted.id, overdue.id],  # falls back to all
    }
    for status, ids in tabs.items():
        page = client.get("/ui/approvals", params={"status": status}, headers=read).text
        assert _rows(page) == ids, status
    assert (
        "no denied approval requests"
        in client.get("/ui/approvals", params={"status": "denied"}, headers=read).text
    )


def test_approve_through_the_page_grants_audits_and_answers_the_new_row(
    client: TestClient, approver: dict[str, str], store: SqlStore
) -> None:
    rec, other = _open(store), _open(store)
    answer = client.post(
        f"/ui/approvals/{rec.id}/approve", data={"reason": "  checked the order "},
        headers={**approver, **HX},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    row = _row(answer.text, rec.id)
    assert 'granted by <b class="decided-by">alice-approver</b>' in row and "hx-post" not in row
    assert "checked the order" in row
    assert re.search(r'id="pending-count"[^>]*hx-swap-oob="true">1 pending<', answer.text)
    stored = store.get_approval(rec.id)
    assert stored is not None and stored.status == "granted"
    assert (stored.decided_by, stored.reason) == ("alice-approver", "checked the order")
    assert store.get_approval(other.id).status == "pending"  # type: ignore[union-attr]
    audit = [e for e in store.audit_entries() if e.subject == rec.id]
    assert [(e.actor, e.action, dict(e.payload)) for e in audit] == [
        ("alice-approver", "policy.approve", {"reason": "checked the order"})
    ]


def test_reject_through_the_page_with_the_session_cookie(
    client: TestClient, store: SqlStore
) -> None:
    token = create_key(store, "carol-ops", ["read", "deploy"], "test").token
    rec = _open(store)
    signed_in = client.post("/ui/session", headers={"Authorization": f"Bearer {token}"})
    assert signed_in.status_code == 204
    page = client.get("/ui/approvals")  # the cookie, not a header
    assert page.status_code == 200 and f"/ui/approvals/{rec.id}/reject" in page.text
    answer = client.post(f"/ui/approvals/{rec.id}/reject", data={}, headers=HX)
    assert answer.status_code == 200 and "denied by <b" in answer.text
    stored = store.get_approval(rec.id)
    assert stored is not None and (stored.status, stored.decided_by) == ("denied", "carol-ops")
    audit = [e for e in store.audit_entries() if e.subject == rec.id]
    assert [(e.actor, e.action) for e in audit] == [("carol-ops", "policy.reject")]


def test_a_late_decision_is_refused_with_the_row_as_it_stands(
    client: TestClient, approver: dict[str, str], store: SqlStore
) -> None:
    overdue = _open(store, ago=timedelta(minutes=10), timeout=60)
    late = client.post(f"/ui/approvals/{overdue.id}/approve", headers={**approver, **HX})
    assert late.status_code == 409
    row = _row(late.text, overdue.id)
    assert 'class="error decide-error"' in row and "not granted" in row and "expired" in row
    assert "hx-post" not in row
    assert store.get_approval(overdue.id).status == "expired"  # type: ignore[union-attr]
    decided = _open(store)
    approvals.reject(store, decided.id, "bob", "too risky")
    again = client.post(f"/ui/approvals/{decided.id}/approve", headers={**approver, **HX})
    assert again.status_code == 409 and "already denied by bob" in again.text
    assert store.get_approval(decided.id).status == "denied"  # type: ignore[union-attr]
    assert not [e for e in store.audit_entries() if e.actor == "alice-approver"]


def test_unknown_ids_forged_posts_and_read_keys_are_refused(
    client: TestClient, approver: dict[str, str], keys: Keys, store: SqlStore
) -> None:
    missing = client.post("/ui/approvals/apr_0000000000000000/approve", headers={**approver, **HX})
    assert missing.status_code == 404 and "no approval request" in missing.json()["error"]
    rec = _open(store)
    forged = client.post(f"/ui/approvals/{rec.id}/approve", headers=approver)  # no HX-Request
    assert forged.status_code == 403 and "HX-Request" in forged.json()["error"]
    reader = client.post(f"/ui/approvals/{rec.id}/reject", headers={**keys.header("read"), **HX})
    assert reader.status_code == 403 and "deploy" in reader.text
    anonymous = client.post(f"/ui/approvals/{rec.id}/reject", headers=HX)
    assert anonymous.status_code == 401
    assert store.get_approval(rec.id).status == "pending"  # type: ignore[union-attr]
    assert not [e for e in store.audit_entries() if e.subject == rec.id]
