"""Approvals through the server (``AGENTDECK_ENDPOINT`` mode): an SDK tool call that needs
approval opens a request through the API and waits; a grant through the API or through
``approvals.grant`` (what the CLI calls) lets it run, a rejection or the timeout denies it, a
dead server denies it; an ingest key reads only what it opened, as its ``requested_by`` column
records (both backends, a real uvicorn server on 127.0.0.1)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from policy_support import (
    effects,
    issue_refund,
    lookup_order,
    register_example,
    start_sdk,
    verify_identity,
)

import agentdeck
from agentdeck.core.errors import ConflictError, InputError, PolicyDenied
from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.core.trace.model import SpanKind
from agentdeck.policy import approvals
from agentdeck.policy.approvals import (
    ApprovalRequest,
    CallbackApprover,
    DenyApprover,
    StoreApprover,
)
from agentdeck.policy.approvals_http import HttpApprover
from agentdeck.policy.enforcer import HttpPolicySource, PolicyGuard, default_guard
from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from app_thread import serve_in_thread

# -- a live server on the store fixture --------------------------------------------------------


@dataclass
class Live:
    url: str
    store: SqlStore
    keys: dict[str, str]  # tokens
    key_ids: dict[str, str]
    stop: Callable[[], None]

    def h(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[key]}"}


@pytest.fixture
def live(store: SqlStore) -> Iterator[Live]:
    register_example(store)
    made = {
        "sdk": create_key(store, "sdk", ["ingest", "read"], "test"),  # what init() uses
        "ingest": create_key(store, "collector", ["ingest"], "test"),
        "ingest2": create_key(store, "other-collector", ["ingest"], "test"),
        "read": create_key(store, "viewer", ["read"], "test"),
        "deploy": create_key(store, "supervisor", ["deploy", "read"], "test"),
    }
    keys = {k: new.token for k, new in made.items()}
    key_ids = {k: new.record.id for k, new in made.items()}
    url, stop = serve_in_thread(create_app(store))
    stopped = [False]

    def stop_once() -> None:
        if not stopped[0]:
            stopped[0] = True
            stop()

    yield Live(url, store, keys, key_ids, stop_once)
    sdk.shutdown(timeout=5)
    stop_once()


def _init(live: Live, tmp_path: Path, timeout: float = 20.0) -> None:
    """The SDK in endpoint mode, asking for approvals through the platform."""
    agentdeck.init(
        endpoint=live.url, api_key=live.keys["sdk"], approver="store",
        approval_timeout_s=timeout, spill_dir=tmp_path / "spill", schedule_delay=0.02,
    )  # fmt: skip
    effects.clear()


def _when_pending(live: Live, decide: Callable[[str], object]) -> threading.Thread:
    """A supervisor in another thread: finds the pending request through the API, decides it."""

    def supervisor() -> None:
        for _ in range(1000):
            pending = httpx.get(f"{live.url}/api/v1/approvals", headers=live.h("read")).json()
            if pending:
                decide(pending[0]["id"])
                return
            time.sleep(0.01)

    t = threading.Thread(target=supervisor, daemon=True)
    t.start()
    return t


def _refund(amount: float = 250.0) -> dict[str, Any]:
    lookup_order("ORD-1001")
    verify_identity("ORD-1001", "jane@example.com")
    return issue_refund("ORD-1001", amount, "damaged")


def _policy_span_approval(store: SqlStore, trace_id: str) -> dict[str, Any]:
    """The ``approval`` output of the run's last policy span, once the server has stored it."""
    assert sdk.flush(5)
    for _ in range(500):
        found = [s for s in store.get_spans(trace_id) if s.kind is SpanKind.POLICY]
        if any("approval" in s.outputs for s in found):
            last = max((s for s in found if "approval" in s.outputs), key=lambda s: s.seq)
            return dict(last.outputs["approval"])
        time.sleep(0.01)
    raise AssertionError("the policy span never reached the store")


def _the_only(store: SqlStore, status: str) -> ApprovalRecord:
    (rec,) = store.list_approvals(status)
    return rec


# -- the SDK's tool call, decided through the server -----------------------------------------


def test_a_grant_through_the_api_lets_the_waiting_tool_call_run(live: Live, tmp_path: Path) -> None:
    _init(live, tmp_path)

    def grant(approval_id: str) -> None:
        r = httpx.post(f"{live.url}/api/v1/approvals/{approval_id}/approve",
                       json={"reason": "receipt checked"}, headers=live.h("deploy"))  # fmt: skip
        assert r.status_code == 200, r.text

    with agentdeck.run(agent="support-bot@1") as run:
        t = _when_pending(live, grant)
        assert _refund()["status"] == "issued"
        t.join(5)
    assert effects[-1] == ("issue_refund", {"order_id": "ORD-1001", "amount": 250.0})
    rec = _the_only(live.store, "granted")
    assert (rec.decided_by, rec.reason) == ("supervisor", "receipt checked")
    assert rec.tool == "issue_refund" and rec.args == {"order_id": "ORD-1001", "amount": 250.0,
                                                        "reason": "damaged"}  # fmt: skip
    assert rec.rules == ("refund-needs-approval",) and rec.trace_id == run.trace_id
    assert (rec.agent_name, rec.agent_version, rec.policy_name, rec.policy_version) == (
        "support-bot", 1, "support-refunds", 1)  # fmt: skip
    assert _policy_span_approval(live.store, run.trace_id) == {
        "granted": True, "approver": "supervisor", "request_id": rec.id,
        "reason": "approval granted by supervisor: receipt checked",
    }  # fmt: skip
    assert [e.action for e in live.store.audit_entries()][-1] == "policy.approve"


def test_a_grant_through_the_cli_path_lets_it_run_too(live: Live, tmp_path: Path) -> None:
    _init(live, tmp_path)
    t = _when_pending(live, lambda aid: approvals.grant(live.store, aid, "alice", "ok"))
    with agentdeck.run(agent="support-bot@1"):
        assert _refund()["status"] == "issued"
    t.join(5)
    assert _the_only(live.store, "granted").decided_by == "alice"


def test_a_rejection_raises_policy_denied_with_the_reason(live: Live, tmp_path: Path) -> None:
    _init(live, tmp_path)

    def reject(approval_id: str) -> None:
        r = httpx.post(f"{live.url}/api/v1/approvals/{approval_id}/reject",
                       json={"reason": "not this one"}, headers=live.h("deploy"))  # fmt: skip
        assert r.status_code == 200, r.text

    t = _when_pending(live, reject)
    with (
        agentdeck.run(agent="support-bot@1"),
        pytest.raises(
            PolicyDenied, match="approval rejected by supervisor: not this one"
        ) as denied,
    ):
        _refund()
    t.join(5)
    assert denied.value.rules == ["refund-needs-approval"]
    assert "issue_refund" not in [e[0] for e in effects]
    assert _the_only(live.store, "denied").reason == "not this one"


def test_no_decision_within_the_timeout_denies_and_the_server_expires_it(
    live: Live, tmp_path: Path
) -> None:
    _init(live, tmp_path, timeout=0.3)
    with agentdeck.run(agent="support-bot@1"), pytest.raises(PolicyDenied, match="expired"):
        _refund()
    assert "issue_refund" not in [e[0] for e in effects]
    rec = _the_only(live.store, "expired")
    assert rec.decided_by == "timeout" and rec.reason == "no decision within 0.3s"
    late = httpx.post(f"{live.url}/api/v1/approvals/{rec.id}/approve", json={},
                      headers=live.h("deploy"))  # fmt: skip
    assert late.status_code == 409 and "already expired" in late.json()["error"]


def test_a_dead_server_denies_with_policy_denied_only(store: SqlStore, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    register_example(store)
    approver = HttpApprover(dead, "k", timeout=5, http_timeout=1)
    try:
        start_sdk(tmp_path, store, approver=approver)
        with sdk.run(agent="support-bot@1"), pytest.raises(PolicyDenied) as denied:
            _refund()
        assert "approval request not opened" in denied.value.message
        assert "ConnectError" in denied.value.message
        assert "issue_refund" not in [e[0] for e in effects]
    finally:
        sdk.shutdown(timeout=5)
        approver.close()


# -- the approver against the API directly ---------------------------------------------------


def _request(**kw: Any) -> ApprovalRequest:
    fields: dict[str, Any] = dict(
        tool="issue_refund", args={"order_id": "ORD-1", "amount": 250.0},
        policy_name="support-refunds", policy_version=1, policy_digest="sha256:" + "0" * 64,
        rules=("refund-needs-approval",), message="needs a supervisor", explanation="...",
        agent_name="support-bot", agent_version=1, agent_digest="sha256:" + "1" * 64,
    )  # fmt: skip
    return ApprovalRequest(**{**fields, **kw})


def test_the_server_going_away_while_waiting_denies_at_the_deadline(live: Live) -> None:
    # Deterministic: the approver's clock and sleep are the test's. The request is opened and
    # read once (pending); at the first wait the server is stopped (the call returns once it is
    # down), then time moves on; every later poll finds no server, until the deadline.
    now = [0.0]
    stops = []

    def sleep(s: float) -> None:
        if not stops:
            stops.append(now[0])
            live.stop()
        now[0] += s

    approver = HttpApprover(live.url, live.keys["ingest"], timeout=0.5, grace=0.2,
                            poll_initial=0.05, http_timeout=5, sleep=sleep,
                            clock=lambda: now[0])  # fmt: skip
    outcome = approver.approve(_request())
    approver.close()
    assert stops == [0.0]  # stopped while waiting, before any later poll
    assert not outcome.granted and outcome.approver == "http"
    assert "approval server unreachable" in outcome.reason and outcome.request_id
    assert now[0] >= 0.5 + 0.2  # denied at the deadline (plus grace), not before
    rec = live.store.get_approval(outcome.request_id)
    assert rec is not None and rec.status == "pending"  # nobody could tell the server...
    while datetime.now(UTC) < rec.expires_at:
        time.sleep(0.01)
    with pytest.raises(ConflictError, match="already expired"):  # ...and yet no late grant
        approvals.grant(live.store, rec.id, "late-alice")


def test_polling_backs_off_then_waits_for_the_servers_verdict(live: Live) -> None:
    slept: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    approver = HttpApprover(live.url, live.keys["ingest"], timeout=10, poll_initial=0.5,
                            poll_max=2.0, grace=0.3, sleep=sleep, clock=lambda: now[0])  # fmt: skip
    outcome = approver.approve(_request())  # the fake clock runs out; the server's does not
    approver.close()
    # doubling to the cap, the rest up to the deadline, then every poll_initial for the grace
    assert slept == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 0.5, 0.5]
    assert not outcome.granted and "still reports it pending" in outcome.reason
    pending = live.store.get_approval(outcome.request_id or "")
    assert pending is not None and pending.status == "pending"


_BODY = {"tool": "issue_refund", "args": {"amount": 250}, "policy_name": "support-refunds",
         "policy_version": 1, "policy_digest": "sha256:" + "0" * 64,
         "rules": ["refund-needs-approval"], "message": "needs a supervisor", "timeout_s": 60}  # fmt: skip


def test_an_ingest_key_opens_and_reads_only_its_own_requests(live: Live) -> None:
    made = httpx.post(f"{live.url}/api/v1/approvals", json=_BODY, headers=live.h("ingest"))
    assert made.status_code == 201, made.text
    opened = made.json()
    assert opened["status"] == "pending" and opened["policy"] == "support-refunds@1"
    assert opened["requested_by"] == live.key_ids["ingest"]
    aid = opened["id"]
    assert re.fullmatch(r"apr_[0-9a-f]{16}", aid)  # one id format: no owner tag in it
    one = f"{live.url}/api/v1/approvals/{aid}"
    mine = httpx.get(one, headers=live.h("ingest"))
    assert mine.status_code == 200 and mine.json()["requested_by"] == live.key_ids["ingest"]
    assert httpx.get(one, headers=live.h("read")).json()["requested_by"] == live.key_ids["ingest"]
    other = httpx.get(one, headers=live.h("ingest2"))
    assert other.status_code == 403 and "'read' scope" in other.json()["error"]
    stored = live.store.get_approval(aid)
    assert stored is not None and stored.requested_by == live.key_ids["ingest"]
    assert (stored.expires_at - stored.requested_at).total_seconds() == 60
    # a request the store wrote (StoreApprover) has no requester: no ingest key owns it
    embedded = approvals.open_request(live.store, _request(), 60)
    assert embedded.requested_by is None
    got = httpx.get(f"{live.url}/api/v1/approvals/{embedded.id}", headers=live.h("read")).json()
    assert got["requested_by"] is None
    assert httpx.get(f"{live.url}/api/v1/approvals/{embedded.id}",
                     headers=live.h("ingest")).status_code == 403  # fmt: skip
    assert httpx.get(f"{live.url}/api/v1/approvals", headers=live.h("ingest")).status_code == 403
    refused = httpx.post(f"{one}/approve", json={}, headers=live.h("ingest"))
    assert refused.status_code == 403 and "'deploy'" in refused.json()["error"]
    assert httpx.post(f"{live.url}/api/v1/approvals", json=_BODY,
                      headers=live.h("read")).status_code == 403  # fmt: skip


def test_ownership_is_the_requested_by_column_not_the_id(live: Live) -> None:
    """Whoever's id is stored in ``requested_by`` reads the request, whatever its id says; an
    unknown id answers an ingest key 403 as well (it cannot probe which ids exist)."""
    theirs = approvals.open_request(
        live.store, _request(), 60, requested_by=live.key_ids["ingest2"]
    )
    url = f"{live.url}/api/v1/approvals/{theirs.id}"
    assert httpx.get(url, headers=live.h("ingest2")).json()["id"] == theirs.id
    assert httpx.get(url, headers=live.h("ingest")).status_code == 403
    # the key's name is not its id: naming the key does not make the request its own
    named = approvals.open_request(live.store, _request(), 60, requested_by="collector")
    named_url = f"{live.url}/api/v1/approvals/{named.id}"
    assert httpx.get(named_url, headers=live.h("ingest")).status_code == 403
    unknown = f"{live.url}/api/v1/approvals/apr_0000000000000000"
    assert httpx.get(unknown, headers=live.h("ingest")).status_code == 403
    assert httpx.get(unknown, headers=live.h("read")).status_code == 404
    # a key with ingest and read (the SDK's) reads any request, as a reader
    assert httpx.get(url, headers=live.h("sdk")).status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tool": None}, "body.tool"),
        ({"timeout_s": 0}, "body.timeout_s"),
        ({"timeout_s": 10**9}, "body.timeout_s"),
        ({"args": [1, 2]}, "body.args"),
        ({"tools": "typo"}, "body.tools"),
        ({"env": "e" * 61}, "body.env"),
    ],
)
def test_a_bad_create_body_is_422_naming_the_field(
    live: Live, change: dict[str, Any], field: str
) -> None:
    body: dict[str, Any] = {"tool": "issue_refund", "policy_name": "p", "policy_digest": "sha256:x"}
    body.update(change)
    body = {k: v for k, v in body.items() if v is not None}
    r = httpx.post(f"{live.url}/api/v1/approvals", json=body, headers=live.h("ingest"))
    assert r.status_code == 422, r.text
    assert r.json()["error"].startswith(field)
    assert live.store.list_approvals("all") == []


def test_a_request_past_its_deadline_reads_as_expired(live: Live) -> None:
    rec = approvals.open_request(live.store, _request(), 0.05)
    while datetime.now(UTC) < rec.expires_at:
        time.sleep(0.01)
    listed = httpx.get(f"{live.url}/api/v1/approvals", headers=live.h("read")).json()
    assert listed == []  # no longer pending
    got = httpx.get(f"{live.url}/api/v1/approvals/{rec.id}", headers=live.h("read")).json()
    assert (got["status"], got["decided_by"]) == ("expired", "timeout")


# -- which approver agentdeck.init installs --------------------------------------------------


def test_default_guard_uses_the_platform_only_when_asked(
    monkeypatch: pytest.MonkeyPatch, sqlite_store: SqlStore
) -> None:
    monkeypatch.delenv("AGENTDECK_ENDPOINT", raising=False)
    monkeypatch.delenv("AGENTDECK_APPROVALS", raising=False)
    monkeypatch.delenv("AGENTDECK_APPROVAL_TIMEOUT_S", raising=False)
    endpoint = {"endpoint": "http://agentdeck.test", "api_key": "k"}

    def approver_of(kwargs: dict[str, Any], **kw: Any) -> Any:
        guard = default_guard(kwargs, **kw)
        assert isinstance(guard, PolicyGuard)
        return guard.approver

    assert isinstance(approver_of(endpoint), DenyApprover)  # the default stays deny
    http = approver_of(endpoint, approver="store", approval_timeout_s=42)
    assert isinstance(http, HttpApprover) and http.timeout == 42
    assert http.endpoint == "http://agentdeck.test"
    embedded = approver_of({"sink": sqlite_store}, approver="store")
    assert isinstance(embedded, StoreApprover) and embedded.store is sqlite_store
    assert embedded.timeout == 300
    assert isinstance(approver_of(endpoint, approver=lambda r: True), CallbackApprover)
    assert isinstance(approver_of(endpoint, approver="deny"), DenyApprover)
    monkeypatch.setenv("AGENTDECK_APPROVALS", "store")
    monkeypatch.setenv("AGENTDECK_APPROVAL_TIMEOUT_S", "7.5")
    from_env = approver_of(endpoint)
    assert isinstance(from_env, HttpApprover) and from_env.timeout == 7.5
    assert isinstance(default_guard(endpoint).source, HttpPolicySource)  # type: ignore[attr-defined]
    monkeypatch.setenv("AGENTDECK_APPROVAL_TIMEOUT_S", "soon")
    with pytest.raises(InputError, match="AGENTDECK_APPROVAL_TIMEOUT_S"):
        approver_of(endpoint)
    monkeypatch.setenv("AGENTDECK_APPROVALS", "yes-please")
    with pytest.raises(InputError, match="AGENTDECK_APPROVALS"):
        approver_of(endpoint)
    with pytest.raises(InputError, match="approval_timeout_s"):
        approver_of(endpoint, approver="store", approval_timeout_s=0)
