"""Ingest (the SDK's wire format) and the runs API on both backends: idempotent by span id,
committed before the answer, malformed batches refused whole, filters, trace, graph, rca."""

from __future__ import annotations

import gzip

import orjson
import pytest
from demo_data import demo_run
from demo_data import table_counts as row_counts
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_bytes


def _ingest(client: TestClient, keys: Keys, body: bytes, **headers: str) -> tuple[int, dict]:
    r = client.post("/api/v1/ingest", content=body, headers={**keys.header("ingest"), **headers})
    return r.status_code, r.json()


def test_ingest_is_idempotent_by_span_id_and_queryable(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    ok_run, ok_spans = demo_run(env="production")
    bad_run, bad_spans = demo_run(env="staging", fail=True)
    body = batch_to_bytes([ok_run, bad_run], ok_spans + bad_spans)
    assert _ingest(client, keys, body) == (202, {"accepted_runs": 2, "accepted_spans": 10})
    assert _ingest(client, keys, gzip.compress(body), **{"content-encoding": "gzip"})[0] == 202
    assert row_counts(store)["spans"] == 10 and row_counts(store)["runs"] == 2
    read = keys.header("read")
    errors = client.get("/api/v1/runs", params={"status": "error"}, headers=read).json()
    assert [r["trace_id"] for r in errors] == [bad_run.trace_id]
    prod = client.get(
        "/api/v1/runs", params={"env": "production", "tool": "issue_refund"}, headers=read
    ).json()
    assert [r["trace_id"] for r in prod] == [ok_run.trace_id]
    got = client.get(f"/api/v1/runs/{ok_run.trace_id[:10]}", headers=read).json()
    assert got["run"]["trace_id"] == ok_run.trace_id and len(got["spans"]) == 5
    kinds = {e["kind"] for e in got["graph"]["edges"]}
    assert kinds == {"parent", "data", "policy"}
    rca = client.get(f"/api/v1/runs/{bad_run.trace_id}/rca", headers=read).json()
    assert rca["failure"]["status"] == "error"
    assert rca["cause"]["span"]["name"] == "issue_refund"


@pytest.mark.parametrize(
    ("body", "part"),
    [
        (b"not json", "body: not valid JSON"),
        (b'{"v": 1, "spans": [{"trace_id": "x"}]}', "body.spans[0]: missing field"),
        (b'{"v": 9}', "body.v"),
    ],
)
def test_malformed_batch_is_refused_whole_and_changes_nothing(
    client: TestClient, keys: Keys, store: SqlStore, body: bytes, part: str
) -> None:
    run, spans = demo_run()
    good = orjson.loads(batch_to_bytes([run], spans))
    before = row_counts(store)
    status, answer = _ingest(client, keys, body)
    assert status == 400 and part in answer["error"]
    good["spans"][3]["span_id"] = "not-hex"
    status, answer = _ingest(client, keys, orjson.dumps(good))
    assert status == 400 and "body.spans[3]" in answer["error"]
    assert row_counts(store) == before


@pytest.mark.parametrize("settings", [ServerSettings(max_body_bytes=2000)])
def test_a_body_past_the_limit_gets_413(client: TestClient, keys: Keys, store: SqlStore) -> None:
    run, spans = demo_run()
    body = batch_to_bytes([run], spans)
    assert len(body) > 2000
    assert _ingest(client, keys, body)[0] == 413
    bomb = gzip.compress(b'{"v":1,"spans":[],"runs":[],"pad":"' + b"x" * 100_000 + b'"}')
    assert len(bomb) < 2000
    assert _ingest(client, keys, bomb, **{"content-encoding": "gzip"})[0] == 413
    assert row_counts(store)["spans"] == 0
