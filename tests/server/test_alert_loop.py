"""The server's alert-rule loop: configured by a rules file, evaluates on its interval, fires
de-duplicated alerts, and stops with the app."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agentdeck.core.behaviour.records import FindingRecord
from agentdeck.core.errors import AgentDeckError, InputError
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.server.alert_loop import AlertLoop
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore

RULES = """
rules:
  - name: bad-args
    check: invalid_args
    threshold: 1
    severity: critical
    window: 1h
"""


def _finding(store: SqlStore) -> None:
    store.put_findings(
        [
            FindingRecord(
                "f1",
                "a" * 32,
                None,
                "bot",
                "production",
                "invalid_args",
                "warning",
                "arguments do not match the schema",
                datetime.now(UTC),
            )
        ]
    )


def test_the_app_runs_the_rules_on_its_interval_and_stops_the_loop_on_shutdown(
    store: SqlStore, tmp_path: Path
) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(RULES)
    _finding(store)
    app = create_app(store, ServerSettings(alert_rules=str(rules), alert_interval_s=0.05))
    loop = app.state.agentdeck.alert_loop
    assert loop is not None
    with TestClient(app):
        deadline = time.monotonic() + 10
        while loop.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert loop.passes >= 3 and loop.errors == 0
        alerts = store.list_alerts()
        assert [(a.rule, a.subject, a.status) for a in alerts] == [
            ("bad-args", "bot@production", "open")
        ]  # fired once, then refreshed: de-duplicated
    assert not loop.running
    passes = loop.passes
    time.sleep(0.15)
    assert loop.passes == passes  # stopped


def test_a_failing_pass_is_counted_and_the_loop_goes_on(sqlite_store: SqlStore) -> None:
    config = parse_alert_config({"rules": [{"name": "r", "check": "x", "window": "1h",
                                            "severity": "info"}]})  # fmt: skip
    calls = []

    def clock() -> datetime:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("clock broke")
        return datetime.now(UTC)

    loop = AlertLoop(sqlite_store, config, 0.02, clock=clock)
    loop.start()
    deadline = time.monotonic() + 10
    while loop.passes < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    loop.close()
    assert loop.errors == 1 and loop.passes >= 1


def test_settings_read_the_alert_and_metrics_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AGENTDECK_ALERT_RULES", str(tmp_path / "a.yaml"))
    monkeypatch.setenv("AGENTDECK_ALERT_INTERVAL", "15")
    monkeypatch.setenv("AGENTDECK_METRICS_OPEN", "yes")
    monkeypatch.setenv("AGENTDECK_CHECK_ON_INGEST", "0")
    s = ServerSettings.from_env()
    assert (s.alert_rules, s.alert_interval_s, s.metrics_open, s.check_on_ingest) == (
        str(tmp_path / "a.yaml"), 15.0, True, False,
    )  # fmt: skip
    monkeypatch.setenv("AGENTDECK_ALERT_INTERVAL", "-1")
    with pytest.raises(InputError, match="AGENTDECK_ALERT_INTERVAL"):
        ServerSettings.from_env()
    monkeypatch.setenv("AGENTDECK_ALERT_INTERVAL", "5")
    monkeypatch.setenv("AGENTDECK_METRICS_OPEN", "maybe")
    with pytest.raises(InputError, match="AGENTDECK_METRICS_OPEN"):
        ServerSettings.from_env()


def test_a_bad_rules_file_or_evaluator_fails_at_startup_naming_it(
    sqlite_store: SqlStore, tmp_path: Path
) -> None:
    bad = tmp_path / "alerts.yaml"
    bad.write_text("rules:\n  - name: x\n    check: invalid_args\n    window: soon\n")
    with pytest.raises(AgentDeckError, match=r"alerts\.yaml"):
        create_app(sqlite_store, ServerSettings(alert_rules=str(bad)))
    with pytest.raises(InputError, match="AGENTDECK_ONLINE_EVALUATORS"):
        create_app(sqlite_store, ServerSettings(online_evaluators="agentdeck.core:nothing"))
