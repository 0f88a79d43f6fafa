"""PUT /api/v1/envs/{env}/gates refuses an unknown gate or setting with a 400 naming it and the
nearest valid spelling; nothing is stored (both backends)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore
from foundation import row_counts


def test_a_mistyped_gate_setting_is_a_400_with_the_nearest_spelling(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    before = row_counts(store)
    r = client.put(
        "/api/v1/envs/staging/gates",
        json={"settings": {"evals": {"min_pass_rate": 0.9}}},
        headers=keys.header("admin"),
    )
    assert r.status_code == 400, r.text
    assert "evals.min_pass_rate" in r.json()["error"]
    assert "did you mean 'eval'?" in r.json()["error"]
    r = client.put(
        "/api/v1/envs/staging/gates",
        json={"settings": {"eval": {"min_pass_rate": 0.9, "must_pas": []}}},
        headers=keys.header("admin"),
    )
    assert r.status_code == 400 and "did you mean 'must_pass'?" in r.json()["error"]
    assert row_counts(store) == before
    got = client.get("/api/v1/envs/staging/gates", headers=keys.header("read")).json()
    assert got["settings"] == {}
