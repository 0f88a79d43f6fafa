"""The server greets a new user: ``/`` leads to the UI, the sign-in page says how to get a key
and complains only about a key actually given, every list page says what to run when it is
empty, and a 4xx on a UI page is an HTML page inside the layout (nav bar) while the API keeps
its JSON errors. Both backends (the ``store`` fixture)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore

NAV = '<header class="top">'


def test_root_redirects_to_the_ui_without_a_key(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui"
    page = client.get("/")  # followed: /ui -> /ui/runs -> the sign-in form
    assert page.status_code == 401 and 'id="login"' in page.text


def test_login_page_explains_keys_create_and_shows_no_error_before_a_key_is_given(
    client: TestClient,
) -> None:
    first = client.get("/ui/runs")
    assert first.status_code == 401
    assert "agentdeck keys create --name alice --scope read" in first.text
    assert '<p class="msg" id="login-message"></p>' in first.text  # nothing typed: no error
    assert "missing API key" not in first.text
    wrong = client.get("/ui/runs", headers={"Authorization": "Bearer ak_nope"})
    assert wrong.status_code == 401 and "invalid or revoked API key" in wrong.text


@pytest.mark.parametrize(
    ("path", "hint"),
    [
        ("/ui/runs", "make demo"),
        ("/ui/registry", "agentdeck register examples/support-bot/agent.v1.yaml"),
        ("/ui/envs", "agentdeck promote support-bot@1 --to dev"),
        ("/ui/monitors", "agentdeck baseline create"),
        ("/ui/evals", "agentdeck eval examples/support-bot/evals/suite.yaml"),
        ("/ui/alerts", "agentdeck serve --alert-rules"),
        ("/ui/approvals", "effect: require_approval"),
    ],
)
def test_an_empty_list_page_says_what_to_run(
    client: TestClient, keys: Keys, path: str, hint: str
) -> None:
    page = client.get(path, headers=keys.header("read"))
    assert page.status_code == 200
    assert hint in page.text, path


def test_a_filter_matching_nothing_is_not_called_an_empty_store(
    client: TestClient, keys: Keys
) -> None:
    page = client.get("/ui/runs?status=error", headers=keys.header("read"))
    assert "no runs match these filters" in page.text and "make demo" not in page.text


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/ui/runs/" + "0" * 32, 404, "no run with that id"),
        ("/ui/registry/no-such-agent", 404, "no-such-agent"),
        ("/ui/no-such-page", 404, "no page at /ui/no-such-page"),
        ("/ui/runs?limit=many", 422, "limit"),
        ("/ui/envs/plan?action=promote&agent=x&env=moon&version=1", 400, "moon"),
    ],
)
def test_ui_errors_are_html_pages_inside_the_layout(
    client: TestClient, keys: Keys, path: str, status: int, says: str
) -> None:
    page = client.get(path, headers=keys.header("read"))
    assert page.status_code == status, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert NAV in page.text and 'id="error-message"' in page.text
    assert says in page.text
    if path != "/ui/no-such-page":  # the route authenticated: the key is shown, as on any page
        assert 'id="key-name">read-key<' in page.text


def test_a_key_without_the_read_scope_is_refused_in_the_layout(
    client: TestClient, keys: Keys
) -> None:
    page = client.get("/ui/runs", headers=keys.header("ingest"))
    assert page.status_code == 403 and NAV in page.text
    assert "lacks the &#39;read&#39; scope" in page.text and "Not allowed" in page.text


@pytest.mark.parametrize(
    ("path", "status"), [("/api/v1/runs/" + "0" * 32, 404), ("/api/v1/no-such", 404)]
)
def test_the_api_keeps_json_errors(
    client: TestClient, keys: Keys, store: SqlStore, path: str, status: int
) -> None:
    r = client.get(path, headers=keys.header("read"))
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json" and "error" in r.json()
