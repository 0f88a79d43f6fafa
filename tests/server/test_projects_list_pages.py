"""Lists scoped through the agent hold a full page of the project's records (SQLite and
PostgreSQL): alerts, findings, approvals and eval results are filtered by project in the
query, not after the store's limit, so another project's newer records do not crowd a page
out (the API, the UI's alerts and approvals pages, and the CLI read the same store calls)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import test_projects
from fastapi.testclient import TestClient
from test_projects import Two

from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.policy.records import ApprovalRecord
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store import SqlStore
from agentdeck.store.protocol import AlertRecord, FindingRecord

two = test_projects.two  # the fixture: projects default (A) and team-b (B)
T0 = datetime(2026, 12, 1, tzinfo=UTC)
# beta (team-b): 3 older records of each kind; alpha (default) and a name nobody registered
# ("ghost", which default sees): 10 newer ones
OWNERS = [("beta", 3, 0), ("alpha", 10, 100), ("ghost", 2, 200)]


def _seed(store: SqlStore) -> None:
    for agent, n, offset in OWNERS:
        for i in range(n):
            at = T0 + timedelta(minutes=offset + i)
            store.put_alert(AlertRecord(f"al-{agent}-{i}", "errors", agent, agent, "production",
                                        "warning", "open", "too many errors", 0.5, at, at, at))  # fmt: skip
            store.put_findings([FindingRecord(f"fnd-{agent}-{i}", uuid.uuid4().hex, "s" * 16,
                                              agent, "production", "loop", "warning", "looping", at)])  # fmt: skip
            store.put_approval(ApprovalRecord(
                f"ap-{agent}-{i}", "pending", f"refund_for_{agent}", {}, agent, 1, None, None,
                "refunds", 1, "sha256:00", ("big",), "needs a human", None, None, at,
                at + timedelta(days=365 * 20)))  # fmt: skip
            store.put_eval_result(
                EvalResult(uuid.uuid4().hex, f"suite-of-{agent}", "sha256:" + "2" * 64, agent, 1,
                           "sha256:" + "3" * 64, at, "ci", (CaseResult("c0", True, ()),)),
                AuditEvent("ci", "eval.result", f"{agent}@1", {}),
            )  # fmt: skip


def _agents(client: TestClient, url: str, header: dict[str, str], limit: int) -> list[str]:
    r = client.get(url, params={"limit": limit, "status": "all"} if "alerts" in url or
                   "approvals" in url else {"limit": limit}, headers=header)  # fmt: skip
    assert r.status_code == 200, r.text
    return [str(x.get("agent_name") or x["agent"]).split("@")[0] for x in r.json()]


def test_a_page_holds_the_limit_of_the_projects_records(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    _seed(store)
    a, b = two.a.header("read"), two.b["read"]
    for url in ("/api/v1/alerts", "/api/v1/findings", "/api/v1/approvals", "/api/v1/evals"):
        assert _agents(client, url, b, 3) == ["beta"] * 3, url
        assert _agents(client, url, b, 50) == ["beta"] * 3, url
        assert set(_agents(client, url, a, 50)) == {"alpha", "ghost"}, url
        assert len(_agents(client, url, a, 5)) == 5, url
    alerts_page = client.get("/ui/alerts", params={"status": "all"}, headers=b).text
    assert alerts_page.count("al-beta-") >= 3 and "al-alpha-" not in alerts_page
    approvals_page = client.get("/ui/approvals", headers=b).text
    assert "refund_for_beta" in approvals_page and "refund_for_alpha" not in approvals_page
