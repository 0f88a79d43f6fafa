"""Environments and the promotion path are server-wide on a server of two projects: only an
admin key of the default project or an all-projects admin key changes them; another
project's admin gets 403 naming why, and nothing changes."""

from __future__ import annotations

import test_projects
from fastapi.testclient import TestClient
from test_projects import Two

from agentdeck.store import SqlStore

two = test_projects.two  # the fixture: projects default (A) and team-b (B)

GATES = {"settings": {"eval": {"min_pass_rate": 0.9}}}


def test_only_the_default_projects_or_all_projects_admins_change_envs(
    client: TestClient, two: Two, store: SqlStore
) -> None:
    path = store.get_promotion_path()
    b = two.b["admin"]
    for url, body, what in (
        ("/api/v1/envs/path", {"envs": ["dev", "prod"]}, "the promotion path"),
        ("/api/v1/envs/staging/gates", GATES, "env staging's gate settings"),
    ):
        r = client.put(url, json=body, headers=b)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == (
            f"{what} is server-wide: only an admin key of the default project or an "
            "all-projects admin key changes it (API key 'b-admin' is of project 'team-b')"
        )
    assert store.get_promotion_path() == path
    assert client.get("/api/v1/envs/staging/gates", headers=b).json()["settings"] == {}
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    assert client.put("/api/v1/envs/staging/gates", json=GATES, headers=in_b).status_code == 200
    a = two.a.header("admin")
    assert (
        client.put("/api/v1/envs/staging/gates", json={"settings": {}}, headers=a).status_code
        == 200
    )
    r = client.put("/api/v1/envs/path", json={"envs": list(path)}, headers=a)
    assert r.status_code == 200 and r.json()["envs"] == list(path)
    assert (
        client.put("/api/v1/envs/path", json={"envs": list(path)}, headers=two.root).status_code
        == 200
    )
