"""The registry and deployment API on both backends: the same services as the CLI, errors as
``{"error": ...}`` naming the request part, and the key's name recorded as the actor."""

from __future__ import annotations

from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore
from foundation import row_counts, spec_dict


def _register(client: TestClient, keys: Keys, prompt: str = "You help.") -> dict:
    r = client.post(
        "/api/v1/agents",
        json={"spec": spec_dict(system_prompt=prompt)},
        headers=keys.header("deploy"),
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_register_versions_show_diff_and_resolve(client: TestClient, keys: Keys) -> None:
    v1 = _register(client, keys)
    again = _register(client, keys)
    assert v1["version"] == 1 and v1["created"] and not again["created"]
    v2 = _register(client, keys, "You help, kindly.")
    assert v2["version"] == 2 and v2["created_by"] == "deploy-key"
    read = keys.header("read")
    versions = client.get("/api/v1/agents/bot/versions", headers=read).json()
    assert [v["version"] for v in versions] == [1, 2]
    shown = client.get("/api/v1/agents/bot@1", headers=read).json()
    assert shown["digest"] == v1["digest"] and shown["spec"]["system_prompt"] == "You help."
    diff = client.get("/api/v1/diff", params={"a": "bot@1", "b": "bot@2"}, headers=read).json()
    assert [c["section"] for c in diff["changes"]] == ["prompt"] and not diff["identical"]
    assert any(line.startswith("+You help, kindly.") for line in diff["prompt_diff"])
    resolved = client.get(
        "/api/v1/resolve", params={"ref": "bot@sha256:" + v2["digest"][7:19]}, headers=read
    )
    assert resolved.json()["version"] == 2
    listed = client.get("/api/v1/agents", headers=read).json()
    assert listed == [{**listed[0], "name": "bot", "version": 2, "versions": 2}]


def test_bad_spec_is_refused_naming_the_field_and_nothing_is_stored(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    before = row_counts(store)
    r = client.post(
        "/api/v1/agents", json={"spec": spec_dict(model=None)}, headers=keys.header("deploy")
    )
    assert r.status_code == 400 and r.json()["error"].startswith("body.spec")
    assert "model" in r.json()["error"]
    missing = client.post("/api/v1/agents", json={"nospec": 1}, headers=keys.header("deploy"))
    assert missing.status_code == 422 and "body.spec" in missing.json()["error"]
    unknown = client.get("/api/v1/agents/nobody@3", headers=keys.header("read"))
    assert unknown.status_code == 404 and "nobody" in unknown.json()["error"]
    assert row_counts(store) == before


def test_promote_rollback_mark_history_and_at_record_the_key_name(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _register(client, keys)
    _register(client, keys, "v2 prompt")
    deploy = keys.header("deploy")
    for ref in ("bot@1", "bot@2"):
        r = client.post(
            "/api/v1/deployments/promote", json={"ref": ref, "env": "dev"}, headers=deploy
        )
        assert r.status_code == 200, r.text
        assert r.json()["deployment"]["actor"] == "deploy-key"
    blocked = client.post(
        "/api/v1/deployments/promote", json={"ref": "bot@2", "env": "production"}, headers=deploy
    )
    assert blocked.status_code == 409 and "previous-env" in blocked.json()["error"]
    back = client.post(
        "/api/v1/deployments/rollback",
        json={"agent": "bot", "env": "dev", "reason": "bad"},
        headers=deploy,
    )
    assert back.status_code == 200, back.text
    assert (back.json()["action"], back.json()["version"], back.json()["actor"]) == (
        "rollback",
        1,
        "deploy-key",
    )
    read = keys.header("read")
    history = client.get(
        "/api/v1/deployments/history", params={"agent": "bot", "env": "dev"}, headers=read
    ).json()
    assert [(d["action"], d["version"], d["health"]) for d in history] == [
        ("deploy", 1, "unknown"),
        ("deploy", 2, "bad"),
        ("rollback", 1, "unknown"),
    ]
    at = client.get(
        "/api/v1/deployments/at",
        params={"agent": "bot", "env": "dev", "time": history[1]["at"]},
        headers=read,
    )
    assert at.json()["version"] == 2
    none = client.get(
        "/api/v1/deployments/at",
        params={"agent": "bot", "env": "dev", "time": "2000-01-01T00:00:00"},
        headers=read,
    )
    assert none.status_code == 200 and none.json() is None
    bad_time = client.get(
        "/api/v1/deployments/at",
        params={"agent": "bot", "env": "dev", "time": "yesterday"},
        headers=read,
    )
    assert bad_time.status_code == 400 and "query.time" in bad_time.json()["error"]
    marked = client.post(
        "/api/v1/deployments/mark",
        json={"agent": "bot", "env": "dev", "health": "good"},
        headers=deploy,
    )
    assert marked.json()["health"] == "good"
    audit = [(e.actor, e.action) for e in store.audit_entries()]
    assert ("deploy-key", "deployment.rollback") in audit
    assert client.get("/api/v1/audit/verify", headers=read).json()["ok"] is True


def test_envs_path_and_gates_need_admin(client: TestClient, keys: Keys) -> None:
    envs = client.get("/api/v1/envs", headers=keys.header("read")).json()
    assert [e["env"] for e in envs] == ["dev", "staging", "production"]
    r = client.put(
        "/api/v1/envs/path", json={"envs": ["dev", "prod"]}, headers=keys.header("admin")
    )
    assert r.status_code == 200 and r.json()["envs"] == ["dev", "prod"]
    g = client.put(
        "/api/v1/envs/prod/gates",
        json={"settings": {"eval": {"min_pass_rate": 0.9}}, "disabled": ["previous-env"]},
        headers=keys.header("admin"),
    )
    assert g.status_code == 200
    got = client.get("/api/v1/envs/prod/gates", headers=keys.header("read")).json()
    assert got["settings"] == {"eval": {"min_pass_rate": 0.9}} and got["disabled"] == [
        "previous-env"
    ]
    nowhere = client.get("/api/v1/envs/staging/gates", headers=keys.header("read"))
    assert nowhere.status_code == 400 and "staging" in nowhere.json()["error"]
