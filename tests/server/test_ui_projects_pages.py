"""The web UI's environments, canary, monitors, approvals and evals pages on a server of two
projects (SQLite and PostgreSQL): each project's key sees only its agents' records there,
another project's agent name or record id answers the layout's 404 page (as a missing one;
a button's htmx post: the JSON 404 its error box shows), and the buttons act only within the
project; the default project's pages are as before."""

# ruff: noqa: F811 - the tests take the imported fixture `two` as an argument
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from test_projects import Two, two  # noqa: F401 - the two-project fixture

from agentdeck.core.evals.result import CaseResult, EvalResult
from agentdeck.core.spec.artifacts import AuditEvent
from agentdeck.store import SqlStore

HX = {"HX-Request": "true"}


def _not_found(r: httpx.Response) -> None:
    """The layout's 404 page (not a JSON error): the same as for a name nobody registered."""
    assert r.status_code == 404, r.text
    assert "text/html" in r.headers["content-type"]
    assert "Not found" in r.text


def _refused(r: httpx.Response) -> None:
    """A page's action (an htmx post) refused as for a missing record: 404 with the JSON error
    the page's error box shows."""
    assert r.status_code == 404, r.text
    assert "error" in r.json()


def _promote(client: TestClient, header: dict[str, str], ref: str, env: str) -> None:
    r = client.post("/api/v1/deployments/promote", json={"ref": ref, "env": env}, headers=header)
    assert r.status_code == 200, r.text


def test_envs_page_shows_the_projects_agents_and_plans_only_for_them(
    client: TestClient, two: Two
) -> None:
    _promote(client, two.a.header("deploy"), "alpha@1", "dev")
    _promote(client, two.b["deploy"], "beta@1", "dev")
    a, b = two.a.header("read"), two.b["read"]
    page = client.get("/ui/envs", headers=b)
    assert page.status_code == 200
    assert "beta@1" in page.text and "alpha" not in page.text
    assert 'id="project-name">team-b<' in page.text
    assert "alpha@1" in client.get("/ui/envs", headers=a).text
    plan = {"action": "promote", "agent": "alpha", "env": "staging", "version": "1"}
    assert client.get("/ui/envs/plan", params=plan, headers=a).status_code == 200
    _not_found(client.get("/ui/envs/plan", params=plan, headers=b))
    _not_found(client.get("/ui/envs/plan", params={**plan, "agent": "nobody"}, headers=b))
    mine = client.get("/ui/envs/plan", params={**plan, "agent": "beta"}, headers=b)
    assert mine.status_code == 200 and "Promote beta@1 to staging" in mine.text
    back = {"action": "rollback", "agent": "alpha", "env": "dev", "version": "1"}
    _not_found(client.get("/ui/envs/plan", params=back, headers=b))
    # an all-projects key sees the project it names (the UI's switcher sends the same)
    in_b = client.get("/ui/envs", headers={**two.root, "X-Agentdeck-Project": "team-b"})
    assert "beta@1" in in_b.text and "alpha" not in in_b.text
    assert "alpha@1" in client.get("/ui/envs", headers=two.root).text


def test_canary_panel_and_its_buttons_act_only_within_the_project(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    env = {"env": "production"}
    assert (
        client.get("/ui/canary/alpha", params=env, headers=two.a.header("read")).status_code == 200
    )
    _not_found(client.get("/ui/canary/alpha", params=env, headers=two.b["read"]))
    assert client.get("/ui/canary/beta", params=env, headers=two.b["read"]).status_code == 200
    b = {**two.b["deploy"], **HX}
    for action in ("start", "pause", "resume", "abort"):
        form = {"env": "production", "version": "1", "share": "10"}
        _refused(client.post(f"/ui/canary/alpha/{action}", data=form, headers=b))
    assert store.active_canary("alpha", "production") is None
    assert store.list_canaries("alpha", "production", 5) == []
    own = client.post("/ui/canary/beta/pause", data=env, headers=b)
    assert own.status_code == 200  # the panel, saying there is no canary to pause


def test_monitors_page_picks_and_charts_only_the_projects_agents(
    client: TestClient, two: Two
) -> None:
    a, b = two.a.header("read"), two.b["read"]
    page = client.get("/ui/monitors", headers=b)
    assert page.status_code == 200
    assert '<option value="beta"' in page.text and "alpha" not in page.text
    assert '<option value="alpha"' in client.get("/ui/monitors", headers=a).text
    _not_found(client.get("/ui/monitors", params={"agent": "alpha"}, headers=b))
    assert client.get("/ui/monitors", params={"agent": "alpha"}, headers=a).status_code == 200
    assert client.get("/ui/monitors", params={"agent": "beta"}, headers=b).status_code == 200
    in_b = client.get("/ui/monitors", headers={**two.root, "X-Agentdeck-Project": "team-b"})
    assert '<option value="beta"' in in_b.text and "alpha" not in in_b.text


def _approval(client: TestClient, header: dict[str, str], agent: str) -> str:
    opened = client.post("/api/v1/approvals", headers=header, json={
        "tool": f"refund_for_{agent}", "policy_name": "refunds", "policy_digest": "sha256:00",
        "agent_name": agent})  # fmt: skip
    assert opened.status_code == 201, opened.text
    return str(opened.json()["id"])


def test_approvals_page_lists_and_decides_only_the_projects_requests(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    a_id = _approval(client, two.a.header("ingest"), "alpha")
    b_id = _approval(client, two.b["ingest"], "beta")
    a, b = two.a.header("read"), two.b["read"]
    for status in ("all", "pending"):
        page = client.get("/ui/approvals", params={"status": status}, headers=b).text
        assert "refund_for_beta" in page and "refund_for_alpha" not in page, status
        assert a_id not in page
    assert "refund_for_alpha" in client.get("/ui/approvals", headers=a).text
    b_deploy = {**two.b["deploy"], **HX}
    for action in ("approve", "reject"):
        _refused(client.post(f"/ui/approvals/{a_id}/{action}", data={}, headers=b_deploy))
    rec = store.get_approval(a_id)
    assert rec is not None and rec.status == "pending"
    mine = client.post(f"/ui/approvals/{b_id}/approve", data={}, headers=b_deploy)
    assert mine.status_code == 200, mine.text
    assert "refund_for_alpha" not in mine.text
    granted = client.get("/ui/approvals", params={"status": "granted"}, headers=b).text
    assert "refund_for_beta" in granted
    assert "refund_for_beta" not in client.get("/ui/approvals", headers=a).text
    a_deploy = {**two.a.header("deploy"), **HX}
    assert client.post(f"/ui/approvals/{a_id}/reject", data={}, headers=a_deploy).status_code == 200


def _result(store: SqlStore, client: TestClient, header: dict[str, str], agent: str) -> None:
    digest = client.get(f"/api/v1/agents/{agent}@1", headers=header).json()["digest"]
    r = EvalResult(uuid.uuid4().hex, f"suite-of-{agent}", "sha256:" + "2" * 64, agent, 1,
                   digest, datetime.now(UTC), "ci", (CaseResult("c0", True, ()),))  # fmt: skip
    store.put_eval_result(r, AuditEvent("ci", "eval.result", f"{agent}@1", {}))


def test_evals_page_shows_the_projects_results_only(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    a, b = two.a.header("read"), two.b["read"]
    _result(store, client, a, "alpha")
    _result(store, client, b, "beta")
    page = client.get("/ui/evals", headers=b)
    assert page.status_code == 200
    assert "suite-of-beta" in page.text and "alpha" not in page.text
    assert '<span id="eval-count">1</span>' in page.text
    assert "suite-of-alpha" in client.get("/ui/evals", headers=a).text
    _not_found(client.get("/ui/evals", params={"agent": "alpha"}, headers=b))
    by_suite = client.get("/ui/evals", params={"suite": "suite-of-alpha"}, headers=b)
    assert by_suite.status_code == 200 and '<span id="eval-count">0</span>' in by_suite.text
    assert "suite-of-alpha" in client.get("/ui/evals", params={"agent": "alpha"}, headers=a).text
