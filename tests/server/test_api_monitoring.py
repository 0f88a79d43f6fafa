"""Monitoring over the API on both backends: baselines, window checks and series, findings
(including those made by the after-ingest worker), alerts, and /metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from monitor_data import CALM, history, seed_history, tool_run
from server_support import Keys

from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk.wire import batch_to_dict, dumps


def batch_to_bytes(runs: list, spans: list) -> bytes:
    return dumps(batch_to_dict(runs, spans))


def _calm_baseline(client: TestClient, keys: Keys, now_ns: int) -> dict:
    since = datetime.fromtimestamp(now_ns / 1e9, UTC) - timedelta(hours=2)
    r = client.post(
        "/api/v1/baselines",
        json={"name": "calm", "agent": "support-bot", "env": "production",
              "since": since.isoformat(), "until": (since + timedelta(hours=1)).isoformat()},
        headers=keys.header("deploy"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return r.json()


def test_baseline_create_list_show_and_a_window_check_that_names_the_drift(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    now = seed_history(store, per_hour=240)
    made = _calm_baseline(client, keys, now)
    assert made["runs"] == 240 and made["created_by"] == "deploy-key"
    assert made["tool_frequencies"]["lookup_order"] > 0.5
    read = keys.header("read")
    listed = client.get("/api/v1/baselines", params={"agent": "support-bot"}, headers=read).json()
    assert [b["name"] for b in listed] == ["calm"] and "profile" not in listed[0]
    shown = client.get("/api/v1/baselines/calm", headers=read).json()
    assert shown["completion_rate"] == made["completion_rate"]
    again = client.post(
        "/api/v1/baselines",
        json={"name": "calm", "agent": "support-bot"},
        headers=keys.header("deploy"),
    )
    assert again.status_code == 409 and "calm" in again.json()["error"]
    wc = client.get(
        "/api/v1/monitors/window",
        params={"agent": "support-bot", "env": "production", "window": "20m"},
        headers=read,
    )
    assert wc.status_code == 200, wc.text
    drifted = {i["metric"] for i in wc.json()["items"] if i["drifted"]}
    assert {"tool_selection", "run_error_rate"} <= drifted and wc.json()["baseline"] == "calm"
    bad = client.get(
        "/api/v1/monitors/window", params={"agent": "support-bot", "window": "soon"}, headers=read
    )
    assert bad.status_code == 400 and bad.json()["error"].startswith("query.window")
    missing = client.get("/api/v1/baselines/nope", headers=read)
    assert missing.status_code == 404


def test_series_buckets_show_the_shift_in_tool_mix_rates_and_drift(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    now = seed_history(store, per_hour=240)
    _calm_baseline(client, keys, now)
    r = client.get(
        "/api/v1/monitors/series",
        params={"agent": "support-bot", "env": "production", "window": "1h", "buckets": 4},
        headers=keys.header("read"),
    )
    assert r.status_code == 200, r.text
    s = r.json()
    # The series ends now, a moment after the seeded hour; the last bucket is drifted.
    assert len(s["times"]) == 4 and sum(s["runs"]) >= 235
    assert s["tool_share"]["escalate"][0] < 0.25 < s["tool_share"]["escalate"][-1]
    assert s["errors"][0] < 0.15 < s["errors"][-1]
    assert s["validity"][-1] < s["validity"][0]
    assert s["drifted_items"][0] == 0 and s["drifted_items"][-1] > 0
    assert s["drift_score"][0] == 0 and s["drift_score"][-1] > 1
    too_many = client.get(
        "/api/v1/monitors/series",
        params={"agent": "support-bot", "buckets": 0},
        headers=keys.header("read"),
    )
    assert too_many.status_code == 400 and "query.buckets" in too_many.json()["error"]


def test_ingested_runs_are_checked_off_the_request_path_and_findings_are_listed(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    import random

    rng = random.Random(3)
    runs = [tool_run(rng, CALM, 10**18 + i * 10**9, invalid_p=1.0) for i in range(3)]
    body = batch_to_bytes([r for r, _ in runs], [s for _, spans in runs for s in spans])
    r = client.post("/api/v1/ingest", content=body, headers=keys.header("ingest"))
    assert r.status_code == 202
    state = client.app.state.agentdeck  # type: ignore[attr-defined]
    assert state.after_ingest.drain(20)
    assert state.after_ingest.stats.checked == 3 and state.after_ingest.stats.errors == 0
    tid = runs[0][0].trace_id
    found = client.get("/api/v1/findings", params={"run": tid}, headers=keys.header("read"))
    checks = {f["check"] for f in found.json()}
    assert "invalid_args" in checks and all(f["trace_id"] == tid for f in found.json())
    by_check = client.get(
        "/api/v1/findings", params={"check": "invalid_args"}, headers=keys.header("read")
    ).json()
    assert {f["trace_id"] for f in by_check} == {r.trace_id for r, _ in runs}
    again = client.post(f"/api/v1/runs/{tid[:10]}/check", headers=keys.header("deploy"))
    assert again.status_code == 200 and again.json()["trace_id"] == tid
    assert any(f["check"] == "invalid_args" for f in again.json()["findings"])
    after = client.get("/api/v1/findings", params={"run": tid}, headers=keys.header("read"))
    assert len(after.json()) == len(found.json())  # checking again stores nothing twice


def test_a_failing_check_never_fails_the_ingest(
    client: TestClient, keys: Keys, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = client.app.state.agentdeck  # type: ignore[attr-defined]

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("monitoring is down")

    monkeypatch.setattr(state.checker, "check_and_store", broken)
    run, spans = history(per_hour=2)[0]
    r = client.post(
        "/api/v1/ingest", content=batch_to_bytes([run], spans), headers=keys.header("ingest")
    )
    assert r.status_code == 202 and state.after_ingest.drain(20)
    assert state.after_ingest.stats.errors == 1 and store.get_run(run.trace_id) is not None


def _alert(store: SqlStore, n: int, status: str = "open") -> str:
    at = datetime.now(UTC) - timedelta(minutes=n)
    aid = f"{n:02d}" + "c" * 30
    store.put_alert(
        AlertRecord(
            aid,
            f"rule-{n}",
            "bot@production",
            "bot",
            "production",
            "critical",
            status,
            "drift",
            2.0,
            at,
            at,
            at,
            "agentdeck-monitor",
        )
    )
    return aid


def test_alerts_list_by_status_ack_and_resolve_record_the_key_name(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    first, second = _alert(store, 1), _alert(store, 2)
    _alert(store, 3, "resolved")
    read = keys.header("read")
    active = client.get("/api/v1/alerts", headers=read).json()
    assert [a["id"] for a in active] == [first, second]
    assert len(client.get("/api/v1/alerts", params={"status": "all"}, headers=read).json()) == 3
    acked = client.post(f"/api/v1/alerts/{first[:8]}/ack", headers=keys.header("deploy"))
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert acked.json()["updated_by"] == "deploy-key"
    opened = client.get("/api/v1/alerts", params={"status": "open"}, headers=read).json()
    assert [a["id"] for a in opened] == [second]
    done = client.post(f"/api/v1/alerts/{second}/resolve", headers=keys.header("deploy")).json()
    assert done["status"] == "resolved"
    assert client.get(f"/api/v1/alerts/{second}", headers=read).json()["status"] == "resolved"
    assert client.post("/api/v1/alerts/zzz/ack", headers=keys.header("deploy")).status_code == 404
    bad = client.get("/api/v1/alerts", params={"status": "closed"}, headers=read)
    assert bad.status_code == 400 and "query.status" in bad.json()["error"]


def test_metrics_need_a_read_key_and_expose_the_monitoring_series(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=keys.header("ingest")).status_code == 403
    run, spans = history(per_hour=2)[0]
    client.post(
        "/api/v1/ingest", content=batch_to_bytes([run], spans), headers=keys.header("ingest")
    )
    assert client.app.state.agentdeck.after_ingest.drain(20)  # type: ignore[attr-defined]
    r = client.get("/metrics", headers=keys.header("read"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert 'agentdeck_runs_total{agent="support-bot",env="production"' in r.text
    assert "agentdeck_tool_calls_total" in r.text


@pytest.fixture
def open_metrics_client(sqlite_store: SqlStore) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_store, ServerSettings(metrics_open=True))) as c:
        yield c


def test_metrics_can_be_served_without_a_key_when_configured(
    open_metrics_client: TestClient,
) -> None:
    r = open_metrics_client.get("/metrics")
    assert r.status_code == 200 and "# TYPE agentdeck_runs_total counter" in r.text
    assert open_metrics_client.get("/api/v1/alerts").status_code == 401  # only /metrics opens
