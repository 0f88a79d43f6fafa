"""Auth: every route but /healthz refuses a missing key (401) and a key without its scope (403);
keys are stored hashed, shown once, revocable; admin implies every scope."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from server_support import Keys
from sqlalchemy import select

from agentdeck.registry.keys import authenticate, create_key, hash_secret, split_token
from agentdeck.store import SqlStore
from agentdeck.store.tables import api_keys

PUBLIC = {("GET", "/healthz"), ("GET", "/ui/login.js")}
# Write routes a read or an ingest key may use (people and programs give feedback): refused
# to a key with neither.
EITHER_READ_OR_INGEST = {
    ("POST", "/api/v1/runs/{run_id}/feedback"),
    ("POST", "/ui/runs/{run_id}/feedback"),
}
# Write routes and the scope each needs; every other route is a read.
WRITE_SCOPES = {
    ("POST", "/api/v1/ingest"): "ingest",
    ("POST", "/v1/traces"): "ingest",
    ("POST", "/api/v1/agents"): "deploy",
    ("POST", "/api/v1/policies"): "deploy",
    ("POST", "/api/v1/deployments/promote"): "deploy",
    ("POST", "/api/v1/deployments/rollback"): "deploy",
    ("POST", "/api/v1/deployments/mark"): "deploy",
    ("POST", "/api/v1/canaries"): "deploy",
    ("POST", "/api/v1/canaries/{name}/{action}"): "deploy",
    ("POST", "/ui/canary/{name}/{action}"): "deploy",
    ("PUT", "/api/v1/envs/path"): "admin",
    ("PUT", "/api/v1/envs/{env}/gates"): "admin",
    ("GET", "/api/v1/keys"): "admin",
    ("DELETE", "/api/v1/runs"): "admin",  # erasure (docs/lifecycle.md)
    ("POST", "/api/v1/keys"): "admin",
    ("DELETE", "/api/v1/keys/{id_or_name}"): "admin",
    ("GET", "/api/v1/projects"): "admin",
    ("POST", "/api/v1/projects"): "admin",
    ("POST", "/api/v1/lint"): "read",
    ("POST", "/api/v1/policies/{ref}/eval"): "read",
    ("POST", "/api/v1/policies/simulate"): "read",
    ("POST", "/api/v1/policies/{ref}/tests"): "deploy",
    ("POST", "/api/v1/approvals"): "ingest",
    ("POST", "/api/v1/approvals/{approval_id}/approve"): "deploy",
    ("POST", "/api/v1/approvals/{approval_id}/reject"): "deploy",
    ("POST", "/api/v1/alerts/{alert_id}/ack"): "deploy",
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): "deploy",
    ("POST", "/api/v1/baselines"): "deploy",
    ("POST", "/api/v1/runs/{run_id}/check"): "deploy",
    ("POST", "/api/v1/replays"): "deploy",
    ("POST", "/ui/approvals/{approval_id}/approve"): "deploy",
    ("POST", "/ui/approvals/{approval_id}/reject"): "deploy",
    ("POST", "/ui/session"): "read",
    ("POST", "/ui/logout"): "read",
    ("POST", "/ui/project"): "read",  # the project switcher (an all-projects key)
    # review and datasets (docs/datasets.md): reviewers hold read keys, as for feedback
    ("POST", "/api/v1/queues"): "read",
    ("POST", "/api/v1/queues/{queue}/labels"): "read",
    ("POST", "/api/v1/queues/{queue}/skip"): "read",
    ("POST", "/api/v1/suites/{suite}/cases"): "read",
    ("POST", "/ui/queues/{queue}/label"): "read",
    ("POST", "/ui/queues/{queue}/skip"): "read",
    ("POST", "/ui/runs/{run_id}/suite"): "read",
}


def all_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers of any FastAPI version."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        items = (
            [(c.original_route, c.path) for c in contexts()]
            if contexts
            else [(route, getattr(route, "path", ""))]
        )
        for original, path in items:
            for method in sorted(getattr(original, "methods", None) or ()):
                if method != "HEAD":
                    yield method, path


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.fixture
def sqlite_client(sqlite_store: SqlStore) -> Iterator[TestClient]:
    from agentdeck.server.app import create_app

    with TestClient(create_app(sqlite_store)) as c:
        yield c


def test_every_route_but_health_refuses_a_missing_and_a_wrong_scope_key(
    sqlite_client: TestClient, sqlite_store: SqlStore
) -> None:
    from server_support import make_keys

    keys = make_keys(sqlite_store)
    routes = sorted(set(all_routes(sqlite_client.app)))  # type: ignore[arg-type]
    assert len(routes) > 60 and ("POST", "/v1/traces") in routes
    assert {("GET", "/metrics"), ("GET", "/api/v1/alerts"), ("POST", "/api/v1/replays")} <= set(
        routes
    )
    unlisted = [
        r
        for r in routes
        if r[0] != "GET" and r not in WRITE_SCOPES and r not in PUBLIC
        and r not in EITHER_READ_OR_INGEST
    ]  # fmt: skip
    assert not unlisted, f"write routes need their scope in WRITE_SCOPES: {unlisted}"
    checked = 0
    for method, path in routes:
        if (method, path) in PUBLIC:
            assert sqlite_client.request(method, path).status_code == 200
            continue
        url = concrete(path)
        missing = sqlite_client.request(method, url, json={})
        assert missing.status_code == 401, (method, path, missing.status_code)
        scope = WRITE_SCOPES.get((method, path), "read")
        wrong = keys[f"not-{scope}"] if scope != "admin" else keys["deploy"]
        if (method, path) in EITHER_READ_OR_INGEST:
            wrong = keys["deploy"]
        refused = sqlite_client.request(
            method, url, json={}, headers={"Authorization": f"Bearer {wrong}"}
        )
        assert refused.status_code == 403, (method, path, refused.status_code)
        assert (
            scope in refused.json()["error"]
            if "json" in refused.headers.get("content-type", "")
            else scope in refused.text
        )
        checked += 1
    assert checked == len(routes) - len(PUBLIC)


def test_a_forged_or_revoked_key_is_refused_and_admin_implies_every_scope(
    sqlite_client: TestClient, sqlite_store: SqlStore
) -> None:
    admin = create_key(sqlite_store, "root", ["admin"], "test").token
    key_id, _secret = split_token(admin)  # type: ignore[misc]
    forged = f"ak_{key_id}_{'A' * 43}"
    assert (
        sqlite_client.get("/api/v1/runs", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    ok = sqlite_client.get("/api/v1/runs", headers={"Authorization": f"Bearer {admin}"})
    assert ok.status_code == 200  # admin reads
    made = sqlite_client.post(
        "/api/v1/keys",
        json={"name": "ci", "scopes": ["ingest"]},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert made.status_code == 201 and made.json()["key"].startswith("ak_")
    assert made.json()["created_by"] == "root"
    ci = made.json()["key"]
    assert (
        sqlite_client.post(
            "/api/v1/ingest",
            content=b'{"v":1,"runs":[],"spans":[]}',
            headers={"Authorization": f"Bearer {ci}"},
        ).status_code
        == 202
    )
    gone = sqlite_client.delete("/api/v1/keys/ci", headers={"Authorization": f"Bearer {admin}"})
    assert gone.status_code == 200 and gone.json()["revoked_at"]
    again = sqlite_client.post(
        "/api/v1/ingest", content=b"{}", headers={"Authorization": f"Bearer {ci}"}
    )
    assert again.status_code == 401
    listed = sqlite_client.get("/api/v1/keys", headers={"Authorization": f"Bearer {admin}"}).json()
    assert {k["name"] for k in listed} == {"root", "ci"} and all("key" not in k for k in listed)


def test_keys_are_stored_as_hashes_only(store: SqlStore) -> None:
    new = create_key(store, "svc", ["read", "ingest"], "tester")
    _, secret = split_token(new.token)  # type: ignore[misc]
    with store.engine.connect() as conn:
        row = conn.execute(select(api_keys)).one()
    assert row.secret_hash == hash_secret(secret) and secret not in str(tuple(row))
    assert row.scopes == "ingest,read"
    principal = authenticate(store, new.token)
    assert principal is not None and principal.name == "svc"
    entry = store.audit_entries()[-1]
    assert (entry.action, entry.subject, entry.actor) == ("key.create", "svc", "tester")


def test_duplicate_key_name_is_a_conflict(keys: Keys, client: TestClient) -> None:
    r = client.post(
        "/api/v1/keys", json={"name": "read-key", "scopes": ["read"]}, headers=keys.header("admin")
    )
    assert r.status_code == 409 and "read-key" in r.json()["error"]
    bad = client.post(
        "/api/v1/keys", json={"name": "x", "scopes": ["root"]}, headers=keys.header("admin")
    )
    assert bad.status_code == 400 and "unknown scope 'root'" in bad.json()["error"]
