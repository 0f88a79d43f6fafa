"""UI sessions are server-side: the cookie holds a random token (stored hashed), never the API
key; it dies at sign-out, with its key, after its lifetime and when idle. The cookie is
HttpOnly, SameSite=Strict and Secure over HTTPS (or behind a trusted proxy saying https). Every
response carries the security headers, and the UI's HTML carries no inline script."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Column, DateTime, MetaData, String, Table, select, update

import agentdeck.server
from agentdeck.registry.keys import create_key, revoke_key, split_token
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore

COOKIE_NAME = "agentdeck_session"
#: the sessions table as migration 0011 creates it (declared here: the test predates it)
ui_sessions = Table(
    "ui_sessions",
    MetaData(),
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32)),
    Column("created_at", DateTime(timezone=True)),
    Column("expires_at", DateTime(timezone=True)),
    Column("last_seen_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
TEMPLATES = Path(agentdeck.server.__file__).resolve().parent / "templates"


def _sign_in(client: TestClient, token: str, **headers: str) -> str:
    r = client.post("/ui/session", headers={"Authorization": f"Bearer {token}", **headers})
    assert r.status_code == 204, r.text
    assert "set-cookie" in r.headers
    return r.headers["set-cookie"]


def test_the_cookie_holds_a_hashed_session_token_never_the_key(
    client: TestClient, store: SqlStore
) -> None:
    key = create_key(store, "ops", ["read"], "test").token
    set_cookie = _sign_in(client, key)
    value = client.cookies[COOKIE_NAME]
    _, secret = split_token(key)  # type: ignore[misc]
    assert value != key and secret not in value and key not in set_cookie
    assert "httponly" in set_cookie.lower() and "samesite=strict" in set_cookie.lower()
    assert "secure" not in set_cookie.lower()  # plain http, no proxy
    with store.engine.connect() as conn:
        rows = conn.execute(select(ui_sessions)).all()
    assert len(rows) == 1 and rows[0].token_hash == hashlib.sha256(value.encode()).hexdigest()
    assert value not in str(tuple(rows[0]))
    assert client.get("/api/v1/runs").status_code == 200


def test_sign_out_revokes_the_session_even_for_a_copied_cookie(
    client: TestClient, store: SqlStore
) -> None:
    key = create_key(store, "ops", ["read"], "test").token
    _sign_in(client, key)
    copied = client.cookies[COOKIE_NAME]
    out = client.post("/ui/logout", headers={"X-Agentdeck-UI": "1"}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.clear()
    client.cookies[COOKIE_NAME] = copied
    replay = client.get("/api/v1/runs")
    assert replay.status_code == 401 and "signed out" in replay.json()["error"]


def test_revoking_the_key_ends_its_sessions(client: TestClient, store: SqlStore) -> None:
    key = create_key(store, "ops", ["read"], "test").token
    _sign_in(client, key)
    assert client.get("/api/v1/runs").status_code == 200
    revoke_key(store, "ops", "admin")
    assert client.get("/api/v1/runs").status_code == 401
    page = client.get("/ui/runs")
    assert page.status_code == 401 and 'id="login"' in page.text


def test_an_idle_session_is_refused_over_http(client: TestClient, store: SqlStore) -> None:
    key = create_key(store, "ops", ["read"], "test").token
    _sign_in(client, key)
    assert client.get("/api/v1/runs").status_code == 200
    default_idle = timedelta(seconds=ServerSettings().session_idle_s)
    with store.engine.begin() as conn:  # the last use lies one idle timeout in the past
        row = conn.execute(select(ui_sessions)).one()
        conn.execute(update(ui_sessions).values(last_seen_at=row.last_seen_at - default_idle))
    assert client.get("/api/v1/runs").status_code == 401


def test_lifetime_and_idle_timeout(store: SqlStore) -> None:
    from agentdeck.registry.keys import authenticate
    from agentdeck.registry.sessions import SessionPolicy, open_session, session_principal

    new = create_key(store, "ops", ["read"], "test")

    principal = authenticate(store, new.token)
    assert principal is not None
    policy = SessionPolicy(lifetime=timedelta(hours=2), idle=timedelta(minutes=30))
    t0 = datetime.now(UTC)
    token = open_session(store, principal, policy, now=t0)
    assert session_principal(store, token, policy, now=t0) == principal
    # used every 20 minutes it stays alive past one idle timeout ...
    for minutes in (20, 40, 60, 80, 100):
        found = session_principal(store, token, policy, now=t0 + timedelta(minutes=minutes))
        assert found == principal, minutes
    # ... but not past its lifetime, however busy
    assert session_principal(store, token, policy, now=t0 + timedelta(minutes=120)) is None
    # a short idle timeout is kept alive by use too (the last use is written often enough)
    brisk = SessionPolicy(lifetime=timedelta(hours=1), idle=timedelta(seconds=20))
    quick = open_session(store, principal, brisk, now=t0)
    for seconds in (15, 30, 45, 60):
        assert session_principal(store, quick, brisk, now=t0 + timedelta(seconds=seconds))
    other = open_session(store, principal, policy, now=t0)
    assert session_principal(store, other, policy, now=t0 + timedelta(minutes=31)) is None
    assert session_principal(store, "as_" + "x" * 43, policy, now=t0) is None
    assert session_principal(store, new.token, policy, now=t0) is None  # a key is no session
    # sessions that expired are forgotten when a later one opens
    open_session(store, principal, policy, now=t0 + timedelta(days=1))
    with store.engine.connect() as conn:
        assert len(conn.execute(select(ui_sessions)).all()) == 1


def test_cookie_is_secure_over_https_and_behind_a_proxy_saying_https(store: SqlStore) -> None:
    key = create_key(store, "ops", ["read"], "test").token
    with TestClient(create_app(store), base_url="https://testserver") as tls:
        assert "secure" in _sign_in(tls, key).lower()
    with TestClient(create_app(store)) as plain:  # the header is not believed without the flag
        assert "secure" not in _sign_in(plain, key, **{"X-Forwarded-Proto": "https"}).lower()
    proxied = ServerSettings(behind_proxy=True)
    with TestClient(create_app(store, proxied)) as behind:
        assert "secure" in _sign_in(behind, key, **{"X-Forwarded-Proto": "https"}).lower()
        assert "secure" not in _sign_in(behind, key, **{"X-Forwarded-Proto": "http"}).lower()


PAGES = ["/ui/runs", "/ui/envs", "/ui/alerts", "/ui/approvals", "/ui/monitors", "/ui/evals"]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)


@pytest.mark.parametrize("path", [*PAGES, "login"])
def test_ui_pages_send_security_headers_and_carry_no_inline_script(
    client: TestClient, store: SqlStore, path: str
) -> None:
    if path == "login":
        page = client.get("/ui/runs")
        assert page.status_code == 401
    else:
        key = create_key(store, "ops", ["read", "deploy"], "test").token
        page = client.get(path, headers={"Authorization": f"Bearer {key}"})
        assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert (
        "script-src 'self'" in csp
        and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    )
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert not INLINE_SCRIPT.search(page.text), INLINE_SCRIPT.search(page.text)
    assert not HANDLER.search(page.text), HANDLER.search(page.text)


def test_no_template_has_inline_script_or_handlers() -> None:
    found = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text("utf-8")
        found += [f"{template.name}: {m.group(0)}" for m in INLINE_SCRIPT.finditer(text)]
        found += [f"{template.name}: {m.group(0)}" for m in HANDLER.finditer(text)]
    assert found == []


def test_the_login_script_is_public_and_api_answers_carry_the_headers(
    client: TestClient,
) -> None:
    script = client.get("/ui/login.js")
    assert script.status_code == 200 and "/ui/session" in script.text
    assert client.get("/static/agentdeck-init.js").status_code == 401  # the rest needs a key
    health = client.get("/healthz")
    assert health.headers["x-content-type-options"] == "nosniff"
