"""Every route is classified for projects: scoped (acts within the request's project), global
(touches no project's records, with the reason), or neither, and then it refuses every project
but ``default`` (403). A new route therefore cannot silently read across projects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from test_auth_routes import PUBLIC, all_routes, concrete

from agentdeck.registry.keys import create_key
from agentdeck.registry.projects import create_project
from agentdeck.server.project_routes import GLOBAL, SCOPED
from agentdeck.store import SqlStore


@pytest.fixture
def sqlite_client(sqlite_store: SqlStore) -> Iterator[TestClient]:
    from agentdeck.server.app import create_app

    with TestClient(create_app(sqlite_store)) as c:
        yield c


def test_the_tables_name_real_routes_and_public_routes_are_global(
    sqlite_client: TestClient,
) -> None:
    routes = {f"{m} {p}" for m, p in all_routes(sqlite_client.app)}  # type: ignore[arg-type]
    assert routes >= SCOPED, sorted(SCOPED - routes)
    assert set(GLOBAL) <= routes, sorted(set(GLOBAL) - routes)
    assert not SCOPED & set(GLOBAL)
    assert {f"{m} {p}" for m, p in PUBLIC} <= set(GLOBAL)
    assert all(reason.strip() for reason in GLOBAL.values())


def test_every_unclassified_route_refuses_another_project(
    sqlite_client: TestClient, sqlite_store: SqlStore
) -> None:
    create_project(sqlite_store, "team-b", "test")
    b_admin = create_key(sqlite_store, "b-admin", ["admin"], "test", project="team-b").token
    header = {"Authorization": f"Bearer {b_admin}"}
    routes = sorted(set(all_routes(sqlite_client.app)))  # type: ignore[arg-type]
    refused = scoped = 0
    for method, path in routes:
        key = f"{method} {path}"
        if key in GLOBAL:
            continue
        r = sqlite_client.request(method, concrete(path), json={}, headers=header)
        closed = r.status_code == 403 and "serves the default project only" in r.text
        if key in SCOPED:
            assert not closed, key
            scoped += 1
        else:
            assert closed, (key, r.status_code, r.text[:200])
            refused += 1
    assert scoped == len(SCOPED)
    assert refused == len(routes) - len(SCOPED) - len({f"{m} {p}" for m, p in routes} & set(GLOBAL))
