"""The runs API says whether a run is provisional (derived from child spans, its root not
arrived): ``"provisional": true`` for such a run, ``false`` for a real one, in the list and in
one run, on both backends; and ``false`` once the root's run has replaced it."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.trace.model import PROVISIONAL, SpanStatus
from agentdeck.store import SqlStore
from agentdeck.tracing.run_json import run_json
from provisional_data import write_both


def test_run_json_says_provisional_true_or_false(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    prov, real = write_both(store)
    read = keys.header("read")
    listed = {r["trace_id"]: r for r in client.get("/api/v1/runs", headers=read).json()}
    assert listed[prov.trace_id]["provisional"] is True
    assert listed[real.trace_id]["provisional"] is False
    assert listed[prov.trace_id]["attributes"][PROVISIONAL] is True  # the marker stays as well
    one = client.get(f"/api/v1/runs/{prov.trace_id[:10]}", headers=read).json()
    assert one["run"]["provisional"] is True and one["run"]["status"] == "error"
    assert len(one["spans"]) == 2
    assert client.get(f"/api/v1/runs/{real.trace_id}", headers=read).json()["run"] == {
        **run_json(real),
        "provisional": False,
    }


def test_the_real_run_replacing_it_is_not_provisional(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    prov, _ = write_both(store)
    root = replace(prov, status=SpanStatus.OK, error=None, attributes={"service.name": "bot"})
    store.write_batch([root], [])
    got = client.get(f"/api/v1/runs/{prov.trace_id}", headers=keys.header("read")).json()
    assert got["run"]["provisional"] is False and got["run"]["status"] == "ok"
