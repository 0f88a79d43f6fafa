"""Search and data lifecycle through the API, on both backends: ``GET /api/v1/runs?q=`` filters
as the query says (and a malformed query is a 400 naming ``query.q`` and the position, never a
5xx), ``DELETE /api/v1/runs`` deletes by id, session, user or query for an admin key only
(dry run first) and audits counts and hashed ids but no content, ``GET /api/v1/export``
streams JSONL, the OpenAPI schema documents ``q``, and the runs page takes the same query."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.store import SqlStore
from store.test_search import A, B, C, D, loaded  # noqa: F401  (the fixture)


def _ids(client: TestClient, keys: Keys, q: str) -> list[str]:
    resp = client.get("/api/v1/runs", params={"q": q}, headers=keys.header("read"))
    assert resp.status_code == 200, resp.text
    return [r["trace_id"] for r in resp.json()]


def test_api_q_filters_runs(client: TestClient, keys: Keys, loaded: SqlStore) -> None:  # noqa: F811
    assert _ids(client, keys, "tag:vip") == [B, A]
    assert _ids(client, keys, "refund OR frozen") == [C, B]
    assert _ids(client, keys, "user:alice -env:staging") == [A]
    resp = client.get("/api/v1/runs", params={"q": "tag:vip", "user_id": "bob"},
                      headers=keys.header("read"))  # fmt: skip
    assert [r["trace_id"] for r in resp.json()] == [B]
    counted = client.get("/api/v1/runs", params={"q": "tag:vip", "count": "true"},
                         headers=keys.header("read"))  # fmt: skip
    assert counted.headers["X-Total-Count"] == "2"


def test_api_malformed_query_is_a_400_naming_the_position(
    client: TestClient,
    keys: Keys,
    loaded: SqlStore,  # noqa: F811
) -> None:
    for q, where in (("cost>", "position 6"), ("(a", "position 3"), ('"x', "position 1"),
                     ("foo:bar", "unknown field 'foo'")):  # fmt: skip
        resp = client.get("/api/v1/runs", params={"q": q}, headers=keys.header("read"))
        assert resp.status_code == 400, resp.text
        assert "query.q" in resp.text and where in resp.text
    spec = client.get("/api/openapi.json", headers=keys.header("read")).json()
    params = {p["name"] for p in spec["paths"]["/api/v1/runs"]["get"]["parameters"]}
    assert "q" in params
    assert "delete" in spec["paths"]["/api/v1/runs"]


def test_api_delete_by_user_audits_counts_not_content(
    client: TestClient,
    keys: Keys,
    loaded: SqlStore,  # noqa: F811
) -> None:
    denied = client.delete("/api/v1/runs", params={"user_id": "alice"}, headers=keys.header("read"))
    assert denied.status_code == 403
    nothing = client.delete("/api/v1/runs", headers=keys.header("admin"))
    assert nothing.status_code == 400 and "nothing selected" in nothing.text
    dry = client.delete("/api/v1/runs", params={"user_id": "alice", "dry_run": "true"},
                        headers=keys.header("admin"))  # fmt: skip
    assert dry.status_code == 200 and dry.json()["runs"] == 2
    assert _ids(client, keys, "user:alice") == [C, A]
    before = len(loaded.audit_entries())
    gone = client.delete("/api/v1/runs", params={"user_id": "alice"}, headers=keys.header("admin"))
    assert gone.status_code == 200, gone.text
    body = gone.json()
    assert body["runs"] == 2 and body["rows"]["runs"] == 2 and body["rows"]["spans"] == 2
    assert _ids(client, keys, "") == [D, B]
    assert loaded.get_spans(A) == [] and loaded.get_spans(C) == []
    assert _ids(client, keys, "rotterdam OR frozen OR metadata.tier:gold") == []
    entries = loaded.audit_entries()[before:]
    assert [e.action for e in entries] == ["runs.delete"]
    text = orjson.dumps(entries[0].payload).decode()
    for secret in ("alice", A, C, "parcel", "Rotterdam", "carol@example.com", "frozen"):
        assert secret not in text
    assert entries[0].payload["runs"] == 2 and len(entries[0].payload["trace_ids_sha256"]) == 2


def test_api_delete_by_query_and_by_id(client: TestClient, keys: Keys, loaded: SqlStore) -> None:  # noqa: F811
    resp = client.delete(
        "/api/v1/runs", params={"q": "tag:vip refund"}, headers=keys.header("admin")
    )
    assert resp.json()["runs"] == 1
    assert _ids(client, keys, "") == [D, C, A]
    resp = client.delete("/api/v1/runs", params={"run_id": D[:8]}, headers=keys.header("admin"))
    assert resp.json()["runs"] == 1
    missing = client.delete(
        "/api/v1/runs", params={"run_id": "f" * 8}, headers=keys.header("admin")
    )
    assert missing.status_code == 404
    bad = client.delete("/api/v1/runs", params={"q": "tag:"}, headers=keys.header("admin"))
    assert bad.status_code == 400 and "query.q: position 5" in bad.text
    assert _ids(client, keys, "") == [C, A]


def test_api_export_streams_runs_and_spans(
    client: TestClient,
    keys: Keys,
    loaded: SqlStore,  # noqa: F811
) -> None:
    resp = client.get("/api/v1/export", params={"q": "tag:vip"}, headers=keys.header("read"))
    assert resp.status_code == 200
    lines = [orjson.loads(line) for line in resp.content.splitlines()]
    assert [(x["record"], x["trace_id"]) for x in lines] == [
        ("run", B), ("span", B), ("run", A), ("span", A)]  # fmt: skip
    bad = client.get("/api/v1/export", params={"q": "(("}, headers=keys.header("read"))
    assert bad.status_code == 400


def test_runs_page_takes_the_query(client: TestClient, keys: Keys, loaded: SqlStore) -> None:  # noqa: F811
    page = client.get("/ui/runs", params={"q": "tag:beta"}, headers=keys.header("read"))
    assert page.status_code == 200
    assert A in page.text and B not in page.text
    assert 'id="f-q"' in page.text and 'value="tag:beta"' in page.text
    bad = client.get("/ui/runs", params={"q": "cost>"}, headers=keys.header("read"))
    assert "query.q: position 6" in bad.text
