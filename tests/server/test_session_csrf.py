"""A browser session (the UI's cookie) can change things only from the UI's own requests,
which carry a header a cross-site page cannot send; reading and bearer-key clients are as
before."""

from __future__ import annotations

from fastapi.testclient import TestClient

from agentdeck.registry.keys import create_key
from agentdeck.store import SqlStore


def _sign_in(client: TestClient, store: SqlStore) -> None:
    token = create_key(store, "ops", ["read", "deploy"], "test").token
    assert (
        client.post("/ui/session", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    )


def test_a_session_cookie_alone_cannot_change_anything(client: TestClient, store: SqlStore) -> None:
    _sign_in(client, store)
    refused = client.post("/api/v1/alerts/no-such-alert/ack", json={})
    assert refused.status_code == 403
    assert "X-Agentdeck-UI" in refused.json()["error"]
    assert client.get("/api/v1/runs").status_code == 200  # reading needs no header


def test_the_uis_own_header_lets_the_session_through(client: TestClient, store: SqlStore) -> None:
    _sign_in(client, store)
    answer = client.post(
        "/api/v1/alerts/no-such-alert/ack", json={}, headers={"X-Agentdeck-UI": "1"}
    )
    assert answer.status_code == 404  # past authentication: the alert does not exist


def test_bearer_clients_need_no_ui_header(client: TestClient, store: SqlStore) -> None:
    token = create_key(store, "ci", ["read", "deploy"], "test").token
    client.cookies.clear()
    answer = client.post(
        "/api/v1/alerts/no-such-alert/ack", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 404
