"""The CLI's ``--json`` and the API give the same JSON for every record both expose.

Each case runs the CLI command in-process and the matching API route (FastAPI's TestClient,
the app's lifespan running) on the same SQLite database, and compares the two documents.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.store import SqlStore
from agentdeck.store.protocol import AlertRecord, ApprovalRecord, BaselineRecord, FindingRecord
from foundation import EXAMPLE_V1, EXAMPLE_V2, Cli

CEST = timezone(timedelta(hours=2))
T0 = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1)

# (CLI arguments, API path): every resource both expose as a list or a single record.
PAIRS: list[tuple[tuple[str, ...], str]] = [
    (("versions", "support-bot"), "/api/v1/agents/support-bot/versions"),
    (("show", "support-bot@2"), "/api/v1/agents/support-bot@2"),
    (("policy", "versions", "support-refunds"), "/api/v1/policies/support-refunds/versions"),
    (("policy", "show", "support-refunds@1"), "/api/v1/policies/support-refunds@1"),
    (
        ("history", "support-bot", "--env", "dev"),
        "/api/v1/deployments/history?agent=support-bot&env=dev",
    ),
    (
        ("at", "support-bot", "--env", "dev", "--time", "now"),
        "/api/v1/deployments/at?agent=support-bot&env=dev&time=now",
    ),
    (("findings",), "/api/v1/findings"),
    (("alerts",), "/api/v1/alerts"),
    (("alerts", "--all"), "/api/v1/alerts?status=all"),
    (("baseline", "list"), "/api/v1/baselines"),
    (("policy", "approvals", "--status", "all"), "/api/v1/approvals?status=all"),
    (("keys", "list"), "/api/v1/keys"),
    (("audit", "log"), "/api/v1/audit/log"),
]


def _seed_operations(store: SqlStore) -> None:
    store.put_findings(
        [
            FindingRecord(
                "fnd_1", "t" * 32, "s" * 16, "support-bot", "dev", "loop", "warning",
                "the same tool call 5 times", T0,
            )
        ]
    )  # fmt: skip
    for i, status in enumerate(("open", "acknowledged", "resolved")):
        at = T0 + timedelta(minutes=i)
        store.put_alert(
            AlertRecord(
                f"alr_{i}", "error-rate", "support-bot/dev", "support-bot", "dev", "critical",
                status, "error rate 40% > 10%", 0.4, at, at + timedelta(seconds=30),
                at + timedelta(seconds=45), "cli:alice" if status != "open" else None,
            )
        )  # fmt: skip
    store.put_baseline(
        BaselineRecord(
            "bl-1", "support-bot", "sha256:" + "a" * 64, "dev", "last 7d of dev", 12, T0,
            "cli:alice", "{}",
        )
    )  # fmt: skip
    for i, (status, decided) in enumerate((("pending", None), ("granted", T0))):
        store.put_approval(
            ApprovalRecord(
                f"apr_{i}", status, "refund", {"amount": 120}, "support-bot", 1,
                "sha256:" + "b" * 64, "dev", "support-refunds", 1, "sha256:" + "c" * 64,
                ("big-refunds",), "refunds over 100 need approval", "t" * 32, "s" * 16,
                T0, T0 + timedelta(days=2), decided, "cli:bob" if decided else None,
                "ok" if decided else None,
            )
        )  # fmt: skip


@pytest.fixture
def api(cli: Cli, seeded: SqlStore) -> Iterator[tuple[TestClient, dict[str, str]]]:
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("register", EXAMPLE_V2).code == 0
    assert cli("promote", "support-bot@1", "--to", "dev").code == 0
    assert cli("promote", "support-bot@2", "--to", "dev").code == 0
    _seed_operations(seeded)
    token = create_key(seeded, "admin-key", ["admin"], "test").token
    with TestClient(create_app(seeded)) as client:
        yield client, {"Authorization": f"Bearer {token}"}


def _utc_times(value: Any) -> list[str]:
    """Every value under a key ending in ``_at`` (or ``at``) in a JSON document."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if (k == "at" or k.endswith("_at")) and isinstance(v, str):
                found.append(v)
            else:
                found.extend(_utc_times(v))
    elif isinstance(value, list):
        for v in value:
            found.extend(_utc_times(v))
    return found


@pytest.mark.parametrize(("args", "path"), PAIRS, ids=[" ".join(a) for a, _ in PAIRS])
def test_cli_json_equals_api_json(
    cli: Cli, api: tuple[TestClient, dict[str, str]], args: tuple[str, ...], path: str
) -> None:
    client, headers = api
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    from_cli = json.loads(r.out)
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    from_api = answer.json()
    assert from_cli == from_api
    assert from_cli not in (None, [], {})  # the case compares real records
    times = _utc_times(from_cli)
    assert times, "each record carries at least one time"
    for t in times:
        parsed = datetime.fromisoformat(t)
        assert parsed.utcoffset() == timedelta(0), t


def test_alert_json_keeps_updated_at_in_utc(
    cli: Cli, api: tuple[TestClient, dict[str, str]]
) -> None:
    alerts = json.loads(cli("alerts", "--all", "--json").out)
    by_id = {a["id"]: a for a in alerts}
    assert set(by_id) == {"alr_0", "alr_1", "alr_2"}
    first = by_id["alr_0"]
    assert first["opened_at"] == T0.isoformat()
    assert first["updated_at"] == (T0 + timedelta(seconds=45)).isoformat()


def test_serializers_write_non_utc_times_in_utc() -> None:
    from agentdeck.records.serialize import alert_json, finding_json

    local = T0.astimezone(CEST)
    alert = AlertRecord(
        "alr_x", "r", "s", None, None, "warning", "open", "m", None, local, local, local
    )
    out = alert_json(alert)
    assert out["opened_at"] == out["updated_at"] == T0.isoformat()
    finding = FindingRecord("f", "t", None, None, None, "loop", "warning", "e", local)
    assert finding_json(finding)["at"] == T0.isoformat()


# -- runs, a run's detail, deployments and monitors (issue 18) ------------------------------


@pytest.fixture
def with_runs(
    api: tuple[TestClient, dict[str, str]], seeded: SqlStore, tmp_path: Path
) -> dict[str, str]:
    from run_summary_data import record_runs

    return record_runs(seeded, tmp_path)


def _both(
    cli: Cli, api: tuple[TestClient, dict[str, str]], args: tuple[str, ...], path: str
) -> tuple[Any, Any]:
    client, headers = api
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return json.loads(r.out), answer.json()


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("runs",), "/api/v1/runs"),
        (("runs", "--agent", "support-bot", "--has-errors"), "/api/v1/runs?agent=support-bot&has_errors=true"),
        (("runs", "--outcome", "failure", "--limit", "1"), "/api/v1/runs?outcome=failure&limit=1"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else None,
)  # fmt: skip
def test_runs_json_equals_the_apis(
    cli: Cli,
    api: tuple[TestClient, dict[str, str]],
    with_runs: dict[str, str],
    args: tuple[str, ...],
    path: str,
) -> None:
    from_cli, from_api = _both(cli, api, args, path)
    assert from_cli == from_api and from_cli
    for run in from_cli:  # the API's names: agent_name / agent_version, not agent / version
        assert {"agent_name", "agent_version", "trace_id", "status"} <= set(run)
        assert "agent" not in run and "version" not in run
        assert run["agent_name"] == "support-bot" and run["agent_version"] == 1


@pytest.mark.parametrize("name", ["clean", "tool_err", "denied", "raised"])
def test_a_runs_detail_json_equals_the_apis(
    cli: Cli, api: tuple[TestClient, dict[str, str]], with_runs: dict[str, str], name: str
) -> None:
    trace_id = with_runs[name]
    from_cli, from_api = _both(cli, api, ("trace", trace_id), f"/api/v1/runs/{trace_id}")
    assert from_cli == from_api
    assert from_cli["run"]["trace_id"] == trace_id and from_cli["spans"] and from_cli["graph"]
    rca_cli, rca_api = _both(cli, api, ("rca", trace_id[:12]), f"/api/v1/runs/{trace_id}/rca")
    assert rca_cli == rca_api and rca_cli["failure"]["trace_id"] == trace_id


def test_deployments_json_equals_the_apis(cli: Cli, api: tuple[TestClient, dict[str, str]]) -> None:
    from_cli, from_api = _both(cli, api, ("env", "list"), "/api/v1/envs")
    assert from_cli == from_api
    dev = next(e for e in from_cli if e["env"] == "dev")
    assert dev["deployed"]["support-bot"]["version"] == 2
    client, headers = api
    r = cli("promote", "support-bot@2", "--to", "staging", "--force", "--reason", "t", "--json")
    assert r.code == 0, r.err
    promoted = json.loads(r.out)
    history = client.get(
        "/api/v1/deployments/history?agent=support-bot&env=staging", headers=headers
    ).json()
    assert promoted["deployment"] == history[-1]  # the deployment the API lists
    by_api = client.post(
        "/api/v1/deployments/promote",
        json={"ref": "support-bot@2", "env": "production", "force": True, "reason": "t"},
        headers=headers,
    )
    assert by_api.status_code == 200, by_api.text
    answer = by_api.json()
    assert set(answer) == set(promoted) == {"deployment", "gates"}
    assert set(answer["deployment"]) == set(promoted["deployment"])
    assert [g["name"] for g in answer["gates"]] == [g["name"] for g in promoted["gates"]]
    r = cli("history", "support-bot", "--env", "production", "--json")
    assert json.loads(r.out)[-1] == answer["deployment"]


def test_monitor_json_equals_the_apis(
    cli: Cli, api: tuple[TestClient, dict[str, str]], with_runs: dict[str, str]
) -> None:
    assert cli("baseline", "create", "b1", "--agent", "support-bot").code == 0
    from_cli, from_api = _both(
        cli, api,
        ("monitor", "--agent", "support-bot", "--window", "1h", "--baseline", "b1"),
        "/api/v1/monitors/window?agent=support-bot&window=1h&baseline=b1",
    )  # fmt: skip
    # the window ends when each was asked: the same length, seconds apart
    for doc in (from_cli, from_api):
        since, until = (datetime.fromisoformat(doc.pop(k)) for k in ("since", "until"))
        assert until - since == timedelta(hours=1)
        assert abs(until - datetime.now(UTC)) < timedelta(minutes=1)
    assert from_cli == from_api
    assert from_cli["baseline"] == "b1" and from_cli["window_runs"] == 4
    assert from_cli["items"] or from_cli["skipped"]


def test_check_json_equals_the_apis(
    cli: Cli, api: tuple[TestClient, dict[str, str]], with_runs: dict[str, str]
) -> None:
    client, headers = api
    trace_id = with_runs["tool_err"]
    r = cli("check", trace_id, "--json")
    assert r.code == 0, r.err
    answer = client.post(f"/api/v1/runs/{trace_id}/check", headers=headers)
    assert answer.status_code == 200, answer.text
    assert json.loads(r.out) == answer.json()
    assert answer.json()["trace_id"] == trace_id and answer.json()["findings"]
