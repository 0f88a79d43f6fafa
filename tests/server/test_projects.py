"""Projects on one server (SQLite and PostgreSQL): each project's keys see and act on only its
own agents, policies, runs and keys; another project's record is not found (404); ingest
cannot write into another project's agent or run; an all-projects admin key chooses a project
per request; a route not placed in project_routes refuses other projects (it fails closed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import orjson
import pytest
from demo_data import demo_run
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.registry.keys import create_key
from agentdeck.registry.projects import create_project
from agentdeck.server.deps import ReadKey
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_bytes
from foundation import spec_dict

POLICY = {
    "name": "refunds",
    "default_effect": "allow",
    "rules": [{"id": "big", "when": "args.amount > 500", "effect": "deny"}],
}


@dataclass
class Two:
    """Project ``default`` (A: the fixtures' keys) and ``team-b`` (B), each with an agent and
    a run: ``alpha`` / ``a_run`` and ``beta`` / ``b_run``."""

    a: Keys
    b: dict[str, dict[str, str]]
    root: dict[str, str]
    a_run: str
    b_run: str


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ingest(client: TestClient, header: dict[str, str], agent: str) -> tuple[int, str]:
    run, spans = demo_run(agent=agent)
    r = client.post("/api/v1/ingest", content=batch_to_bytes([run], spans), headers=header)
    return r.status_code, run.trace_id


@pytest.fixture
def two(client: TestClient, keys: Keys, store: SqlStore) -> Two:
    create_project(store, "team-b", "test")
    b = {
        s: _bearer(create_key(store, f"b-{s}", [s], "test", project="team-b").token)
        for s in ("read", "ingest", "deploy", "admin")
    }
    root = _bearer(create_key(store, "root", ["admin"], "test", all_projects=True).token)
    for header, name in ((keys.header("deploy"), "alpha"), (b["deploy"], "beta")):
        r = client.post("/api/v1/agents", json={"spec": spec_dict(name=name)}, headers=header)
        assert r.status_code == 200, r.text
    status, a_run = _ingest(client, keys.header("ingest"), "alpha")
    assert status == 202
    status, b_run = _ingest(client, b["ingest"], "beta")
    assert status == 202
    return Two(keys, b, root, a_run, b_run)


#: The CLI's ``main`` on the test's store: (exit code, stdout, stderr).
StoreCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def store_cli(
    store: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> StoreCli:
    """The CLI in this process on the server's store (a PostgreSQL test schema too), as
    actor ``tester``, with no ``AGENTDECK_PROJECT``."""
    from agentdeck.cli.main import main

    monkeypatch.setattr("agentdeck.store.open_store", lambda *_: store)
    monkeypatch.setenv("AGENTDECK_ACTOR", "tester")
    monkeypatch.delenv("AGENTDECK_PROJECT", raising=False)

    def cli(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out = capsys.readouterr()
        return int(info.value.code or 0), out.out, out.err

    return cli


def _ids(client: TestClient, url: str, header: dict[str, str], **params: str) -> list[str]:
    r = client.get(url, params=params, headers=header)
    assert r.status_code == 200, r.text
    return [x["trace_id"] for x in r.json()]


def test_each_projects_keys_see_only_its_runs(client: TestClient, two: Two) -> None:
    a, b = two.a.header("read"), two.b["read"]
    assert _ids(client, "/api/v1/runs", a) == [two.a_run]
    assert _ids(client, "/api/v1/runs", b) == [two.b_run]
    assert _ids(client, "/api/v1/runs", b, agent="alpha") == []
    assert _ids(client, "/api/v1/runs", b, q="agent:alpha") == []
    assert _ids(client, "/api/v1/runs", b, q="refund") == [two.b_run]
    counted = client.get("/api/v1/runs", params={"count": "true"}, headers=b)
    assert counted.headers["X-Total-Count"] == "1"
    for url in ("/api/v1/runs/{}", "/api/v1/runs/{}/graph", "/api/v1/runs/{}/rca",
                "/api/v1/runs/{}/feedback"):  # fmt: skip
        for run_id in (two.a_run, two.a_run[:8]):  # by id, by prefix
            r = client.get(url.format(run_id), headers=b)
            assert r.status_code == 404, (url, r.status_code)
            assert "no run with that id" in r.json()["error"]
        assert client.get(url.format(two.b_run[:8]), headers=b).status_code != 404
    assert client.get(f"/api/v1/runs/{two.a_run[:8]}", headers=a).status_code == 200
    gave = client.post(f"/api/v1/runs/{two.a_run}/feedback", json={"score": 1}, headers=b)
    assert gave.status_code == 404
    export = client.get("/api/v1/export", headers=b).text.splitlines()
    runs = [orjson.loads(x) for x in export if orjson.loads(x)["record"] == "run"]
    assert [r["trace_id"] for r in runs] == [two.b_run]


def test_ingest_cannot_write_into_another_projects_agent_or_run(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    status, _ = _ingest(client, two.b["ingest"], "alpha")
    assert status == 409
    run, spans = demo_run(agent="alpha")
    r = client.post("/api/v1/ingest", content=batch_to_bytes([run], spans),
                    headers=two.b["ingest"])  # fmt: skip
    assert r.status_code == 409
    assert r.json()["error"].startswith("body.runs[0].agent_name: agent 'alpha'")
    stolen = store.get_run(two.a_run)
    assert stolen is not None
    _, a_spans = demo_run(agent="beta")
    moved = [replace(s, trace_id=two.a_run) for s in a_spans]
    r = client.post("/api/v1/ingest", content=batch_to_bytes([], moved), headers=two.b["ingest"])
    assert r.status_code == 409 and "body.spans[0].trace_id" in r.json()["error"]
    assert len(store.get_spans(two.a_run)) == 5
    # an agent nobody registered: the run is the ingesting key's project's
    status, tid = _ingest(client, two.b["ingest"], "unregistered")
    assert status == 202 and store.run_projects([tid]) == {tid: "team-b"}


def test_agents_and_policies_belong_to_one_project(client: TestClient, two: Two) -> None:
    a, b = two.a.header("read"), two.b["read"]
    names = [x["name"] for x in client.get("/api/v1/agents", headers=a).json()]
    assert names == ["alpha"]
    assert [x["name"] for x in client.get("/api/v1/agents", headers=b).json()] == ["beta"]
    for url in ("/api/v1/agents/alpha", "/api/v1/agents/alpha@1", "/api/v1/agents/alpha/versions",
                "/api/v1/resolve?ref=alpha@1", "/api/v1/diff?a=alpha@1&b=alpha@1"):  # fmt: skip
        r = client.get(url, headers=b)
        assert r.status_code == 404, (url, r.status_code)
        assert client.get(url, headers=a).status_code == 200, url
    taken = client.post("/api/v1/agents", json={"spec": spec_dict(name="alpha")},
                        headers=two.b["deploy"])  # fmt: skip
    assert taken.status_code == 409
    assert taken.json()["error"].startswith("name: agent 'alpha' belongs to another project")
    made = client.post("/api/v1/policies", json={"policy": POLICY}, headers=two.a.header("deploy"))
    assert made.status_code == 200, made.text
    for url in ("/api/v1/policies/refunds", "/api/v1/policies/refunds/1",
                "/api/v1/policies/refunds/versions"):  # fmt: skip
        assert client.get(url, headers=b).status_code == 404, url
        assert client.get(url, headers=a).status_code == 200, url
    again = client.post("/api/v1/policies", json={"policy": POLICY}, headers=two.b["deploy"])
    assert again.status_code == 409 and "policy 'refunds'" in again.json()["error"]
    # a project's agent cannot pin another project's policy
    pinned = spec_dict(name="beta", policy="refunds@1")
    r = client.post("/api/v1/agents", json={"spec": pinned}, headers=two.b["deploy"])
    assert r.status_code == 400 and "body.spec: policy" in r.json()["error"]


def test_keys_and_projects_are_administered_per_project(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    b_keys = client.get("/api/v1/keys", headers=two.b["admin"]).json()
    assert {k["name"] for k in b_keys} == {"b-read", "b-ingest", "b-deploy", "b-admin"}
    assert {k["project"] for k in b_keys} == {"team-b"}
    a_keys = {k["name"] for k in client.get("/api/v1/keys", headers=two.a.header("admin")).json()}
    assert "b-read" not in a_keys and "read-key" in a_keys
    assert client.delete("/api/v1/keys/read-key", headers=two.b["admin"]).status_code == 404
    made = client.post("/api/v1/keys", json={"name": "b-ci", "scopes": ["ingest"]},
                       headers=two.b["admin"])  # fmt: skip
    assert made.status_code == 201 and made.json()["project"] == "team-b"
    wide = client.post("/api/v1/keys", json={"name": "x", "scopes": ["admin"],
                       "all_projects": True}, headers=two.a.header("admin"))  # fmt: skip
    assert wide.status_code == 400 and wide.json()["error"].startswith("body.all_projects")
    # projects: an all-projects key lists and creates them; a project's admin sees its own
    listed = client.get("/api/v1/projects", headers=two.root).json()
    assert [p["name"] for p in listed] == ["default", "team-b"]
    assert [p["name"] for p in client.get("/api/v1/projects", headers=two.b["admin"]).json()] == [
        "team-b"
    ]
    assert (
        client.post("/api/v1/projects", json={"name": "c"}, headers=two.b["admin"]).status_code
        == 403
    )
    created = client.post("/api/v1/projects", json={"name": "team-c"}, headers=two.root)
    assert created.status_code == 201 and created.json()["name"] == "team-c"
    bad = client.post("/api/v1/projects", json={"name": "Team C"}, headers=two.root)
    assert bad.status_code == 400 and bad.json()["error"].startswith("name: 'Team C'")
    dup = client.post("/api/v1/projects", json={"name": "team-c"}, headers=two.root)
    assert dup.status_code == 409
    schema = client.get("/api/openapi.json", headers=two.a.header("read")).json()
    assert {"get", "post"} <= set(schema["paths"]["/api/v1/projects"])


def test_an_all_projects_key_chooses_its_project_per_request(client: TestClient, two: Two) -> None:
    assert _ids(client, "/api/v1/runs", two.root) == [two.a_run]
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    assert _ids(client, "/api/v1/runs", in_b) == [two.b_run]
    assert client.get(f"/api/v1/runs/{two.a_run}", headers=in_b).status_code == 404
    unknown = client.get("/api/v1/runs", headers={**two.root, "X-Agentdeck-Project": "nope"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "header X-Agentdeck-Project: no project 'nope'"
    # any other key naming a project not its own is refused
    other = client.get("/api/v1/runs", headers={**two.b["read"], "X-Agentdeck-Project": "default"})
    assert other.status_code == 403 and "belongs to project 'team-b'" in other.json()["error"]
    same = client.get("/api/v1/runs", headers={**two.b["read"], "X-Agentdeck-Project": "team-b"})
    assert same.status_code == 200


def test_a_route_in_neither_table_serves_the_default_project_only(
    client: TestClient, two: Two
) -> None:
    """Every route of the app has a place in project_routes (test_project_routes checks); one
    added without it fails closed: other projects get 403."""

    def probe(principal: ReadKey) -> dict[str, str]:
        return {"project": principal.project}

    app = client.app
    assert isinstance(app, FastAPI)  # probe's annotations resolve in this module's globals
    app.add_api_route("/api/v1/unplaced-probe", probe, methods=["GET"])
    url = "/api/v1/unplaced-probe"
    assert client.get(url, headers=two.a.header("admin")).json() == {"project": "default"}
    refused = client.get(url, headers=two.b["admin"])
    assert refused.status_code == 403
    assert refused.json()["error"] == (
        "GET /api/v1/unplaced-probe serves the default project only (it is not "
        "project-scoped yet); this request acts in project 'team-b'"
    )
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    assert client.get(url, headers=in_b).status_code == 403


def test_deployments_envs_and_cost_are_the_projects_own(client: TestClient, two: Two) -> None:
    a_deploy, b_deploy = two.a.header("deploy"), two.b["deploy"]
    up = client.post("/api/v1/deployments/promote", json={"ref": "alpha@1", "env": "dev"},
                     headers=a_deploy)  # fmt: skip
    assert up.status_code == 200, up.text
    refused = client.post("/api/v1/deployments/promote", json={"ref": "alpha@1", "env": "dev"},
                          headers=b_deploy)  # fmt: skip
    assert refused.status_code == 404
    for body in ({"agent": "alpha", "env": "dev"},):
        assert client.post("/api/v1/deployments/rollback", json=body,
                           headers=b_deploy).status_code == 404  # fmt: skip
        mark = {**body, "health": "bad"}
        assert client.post("/api/v1/deployments/mark", json=mark,
                           headers=b_deploy).status_code == 404  # fmt: skip
    b = two.b["read"]
    history = {"agent": "alpha", "env": "dev"}
    assert client.get("/api/v1/deployments/history", params=history, headers=b).status_code == 404
    at = {**history, "time": "2030-01-01T00:00:00Z"}
    assert client.get("/api/v1/deployments/at", params=at, headers=b).status_code == 404
    a_envs = client.get("/api/v1/envs", headers=two.a.header("read")).json()
    b_envs = client.get("/api/v1/envs", headers=b).json()
    assert "alpha" in a_envs[0]["deployed"] and b_envs[0]["deployed"] == {}
    by_agent = {"group_by": "agent"}
    a_cost = client.get("/api/v1/cost", params=by_agent, headers=two.a.header("read"))
    b_cost = client.get("/api/v1/cost", params=by_agent, headers=b)
    assert [g["agent"] for g in a_cost.json()] == ["alpha"]
    assert [g["agent"] for g in b_cost.json()] == ["beta"]


def test_monitors_and_alerts_are_the_projects_own(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    from datetime import UTC, datetime

    from agentdeck.core.behaviour.records import AlertRecord

    now = datetime.now(UTC)
    for aid, agent in (("al-a", "alpha"), ("al-b", "beta")):
        store.put_alert(AlertRecord(aid, "errors", agent, agent, "production", "warning",
                                    "open", "too many errors", 0.5, now, now, now))  # fmt: skip
    a, b = two.a.header("read"), two.b["read"]
    assert [x["id"] for x in client.get("/api/v1/alerts", headers=a).json()] == ["al-a"]
    assert [x["id"] for x in client.get("/api/v1/alerts", headers=b).json()] == ["al-b"]
    assert client.get("/api/v1/alerts/al-a", headers=b).status_code == 404
    assert client.get("/api/v1/alerts/al-b", headers=b).status_code == 200
    for action in ("ack", "resolve"):
        r = client.post(f"/api/v1/alerts/al-a/{action}", headers=two.b["deploy"])
        assert r.status_code == 404, action
    assert client.post("/api/v1/alerts/al-b/ack", headers=two.b["deploy"]).status_code == 200
    made = client.post("/api/v1/baselines", json={"name": "alpha-base", "agent": "alpha"},
                       headers=two.a.header("deploy"))  # fmt: skip
    assert made.status_code == 201, made.text
    for url, params in (
        ("/api/v1/monitors/window", {"agent": "alpha"}),
        ("/api/v1/monitors/series", {"agent": "alpha"}),
        ("/api/v1/findings", {"run": two.a_run}),
    ):
        assert client.get(url, params=params, headers=b).status_code == 404, url
        assert client.get(url, params=params, headers=a).status_code == 200, url
    assert (
        client.post(f"/api/v1/runs/{two.a_run}/check", headers=two.b["deploy"]).status_code == 404
    )
    assert client.get("/api/v1/baselines", headers=b).json() == []
    assert [x["name"] for x in client.get("/api/v1/baselines", headers=a).json()] == ["alpha-base"]
    assert client.get("/api/v1/baselines/alpha-base", headers=b).status_code == 404
    stolen = client.post("/api/v1/baselines", json={"name": "x", "agent": "alpha"},
                         headers=two.b["deploy"])  # fmt: skip
    assert stolen.status_code == 404


def test_policy_tools_and_approvals_are_the_projects_own(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    assert client.post("/api/v1/policies", json={"policy": POLICY},
                       headers=two.a.header("deploy")).status_code == 200  # fmt: skip
    b = two.b["read"]
    call = {"call": {"tool": "issue_refund", "args": {"amount": 10}}}
    assert client.post("/api/v1/policies/refunds@1/eval", json=call, headers=b).status_code == 404
    sim = {"policy": "refunds@1", "agent": "alpha"}
    assert client.post("/api/v1/policies/simulate", json=sim, headers=b).status_code == 404
    assert client.get("/api/v1/agents/alpha@1/policy-coverage", headers=b).status_code == 404
    tests = client.get("/api/v1/policies/refunds@1/tests", params={"agent": "alpha@1"}, headers=b)
    assert tests.status_code == 404
    opened = client.post("/api/v1/approvals", headers=two.a.header("ingest"), json={
        "tool": "issue_refund", "policy_name": "refunds", "policy_digest": "sha256:00",
        "agent_name": "alpha"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    aid = opened.json()["id"]
    assert client.get("/api/v1/approvals", headers=b).json() == []
    assert client.get(f"/api/v1/approvals/{aid}", headers=b).status_code == 404
    assert client.post(f"/api/v1/approvals/{aid}/approve", json={},
                       headers=two.b["deploy"]).status_code == 404  # fmt: skip
    into_a = client.post("/api/v1/approvals", headers=two.b["ingest"], json={
        "tool": "t", "policy_name": "refunds", "policy_digest": "sha256:00",
        "agent_name": "alpha"})  # fmt: skip
    assert into_a.status_code == 404
    assert [
        x["id"] for x in client.get("/api/v1/approvals", headers=two.a.header("read")).json()
    ] == [aid]


def test_ui_pages_show_the_projects_own(client: TestClient, two: Two) -> None:
    a, b = two.a.header("read"), two.b["read"]
    page = client.get("/ui/registry", headers=b)
    assert page.status_code == 200 and "beta" in page.text and "alpha" not in page.text
    assert "alpha" in client.get("/ui/registry", headers=a).text
    assert client.get("/ui/registry/alpha", headers=b).status_code == 404
    runs = client.get("/ui/runs", headers=b).text
    assert two.b_run in runs and two.a_run not in runs
    assert client.get(f"/ui/runs/{two.a_run}", headers=b).status_code == 404
    assert 'id="project-name">team-b<' in runs


def test_canaries_are_the_projects_own(client: TestClient, two: Two) -> None:
    b = two.b["deploy"]
    start = {"ref": "alpha@1", "env": "production", "share": 10}
    assert client.post("/api/v1/canaries", json=start, headers=b).status_code == 404
    env = {"env": "production"}
    assert (
        client.get("/api/v1/canaries/alpha", params=env, headers=two.b["read"]).status_code == 404
    )
    assert client.post("/api/v1/canaries/alpha/pause", json=env, headers=b).status_code == 404
    b_read, a_read = two.b["read"], two.a.header("read")
    for url in ("/api/v1/evals", "/api/v1/scores"):
        assert client.get(url, params={"agent": "alpha"}, headers=b_read).status_code == 404
        assert client.get(url, params={"agent": "alpha"}, headers=a_read).status_code == 200
    assert client.get("/api/v1/scores", params={"agent": "beta"}, headers=b_read).status_code == 200


def test_review_queues_are_the_projects_own(client: TestClient, two: Two) -> None:
    schema = {"labels": [{"name": "good"}, {"name": "bad"}]}
    made = {}
    for who, header in (("a", two.a.header("read")), ("b", two.b["read"])):
        r = client.post("/api/v1/queues", json={"name": f"q-{who}", "schema": schema},
                        headers=header)  # fmt: skip
        assert r.status_code == 201, r.text
        made[who] = r.json()
    b = two.b["read"]
    assert [q["name"] for q in client.get("/api/v1/queues", headers=b).json()] == ["q-b"]
    names = [q["name"] for q in client.get("/api/v1/queues", headers=two.a.header("read")).json()]
    assert names == ["q-a"]
    items = client.get("/api/v1/queues/q-b", headers=b).json()["items"]
    assert [i["run_id"] for i in items] == [two.b_run]
    for url in ("/api/v1/queues/q-a", "/api/v1/queues/q-a/next", "/ui/queues/q-a"):
        assert client.get(url, headers=b).status_code == 404, url
    label = {"run_id": two.a_run, "label": "good"}
    assert client.post("/api/v1/queues/q-a/labels", json=label, headers=b).status_code == 404
    assert "q-a" not in client.get("/ui/queues", headers=b).text
    thumbs = client.post(f"/ui/runs/{two.a_run}/feedback", data={"label": "thumbs_up"},
                         headers={**b, "HX-Request": "true"})  # fmt: skip
    assert thumbs.status_code == 404
