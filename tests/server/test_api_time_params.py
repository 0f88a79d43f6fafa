"""Time query parameters keep nanoseconds (no float on the way) and accept the one grammar of
:mod:`agentdeck.core.timeparse`; a bad one is a 4xx naming the parameter."""

from __future__ import annotations

from demo_data import demo_run
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.timeparse import format_time_ns
from agentdeck.store import SqlStore


def test_runs_since_is_exact_to_the_nanosecond(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    t0 = 1_740_830_400_123_456_789
    run, spans = demo_run(start_ns=t0)
    store.write_batch([run], spans)
    read = keys.header("read")

    def since(value: str) -> list[str]:
        r = client.get("/api/v1/runs", params={"since": value}, headers=read)
        assert r.status_code == 200, r.text
        return [x["trace_id"] for x in r.json()]

    assert since(str(run.start_ns)) == [run.trace_id]
    assert since(str(run.start_ns + 1)) == []  # one nanosecond later: a float would round it
    assert since(format_time_ns(run.start_ns)) == [run.trace_id]
    assert since(format_time_ns(run.start_ns + 1)) == []


def test_a_bad_time_is_a_400_naming_the_parameter(client: TestClient, keys: Keys) -> None:
    r = client.get("/api/v1/runs", params={"since": "yesterday"}, headers=keys.header("read"))
    assert r.status_code in (400, 422)
    assert "query.since" in r.text and "is not a time" in r.text
