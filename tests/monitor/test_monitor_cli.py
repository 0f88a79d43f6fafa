"""The monitoring commands in-process: check, findings, baseline, monitor, alerts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from monitor_support import HOUR_NS, store_runs
from synthetic_runs import Scenario

from agentdeck.cli import common
from agentdeck.cli.main import main
from agentdeck.store import SqlStore, open_store
from foundation import Cli, Result


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(f"sqlite:///{tmp_path / 'cli.db'}")
    yield s
    s.close()


@pytest.fixture
def cli(db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", db.url)
    monkeypatch.setenv("AGENTDECK_ACTOR", "tester")
    monkeypatch.setattr(common.console, "width", 250)

    def run(*args: str) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        out = capsys.readouterr()
        code = info.value.code
        return Result(code if isinstance(code, int) else 0, out.out, out.err)

    return run


def _ns(t: datetime) -> int:
    return int(t.timestamp()) * 10**9


def test_check_run_id_lists_and_stores_findings(cli: Cli, db: SqlStore) -> None:
    runs = store_runs(db, 40, 11, 10**18)
    bad = next(r for r in runs if r.status.value == "error")
    res = cli("check", bad.trace_id[:10], "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["trace_id"] == bad.trace_id
    assert any(
        f["check"] == "task_incomplete" and f["severity"] == "critical" and f["span_id"] is None
        for f in out["findings"]
    )
    listed = json.loads(cli("findings", "--check", "task_incomplete", "--json").out)
    assert bad.trace_id in {f["trace_id"] for f in listed}
    missing = cli("check", "ffffffffffff")
    assert missing.code == 2 and "no run" in missing.err


def test_baseline_then_monitor_reports_drift(cli: Cli, db: SqlStore) -> None:
    now = datetime.now(UTC)
    start = (now - timedelta(days=2)).replace(microsecond=0)
    store_runs(db, 400, 1, _ns(start), spacing_ns=10**9)
    res = cli("baseline", "create", "base", "--agent", "support-bot", "--env", "production",
              "--from", start.isoformat(), "--to", (start + timedelta(hours=1)).isoformat())  # fmt: skip
    assert res.code == 0, res.err
    assert "400 runs" in res.out
    shown = json.loads(cli("baseline", "show", "base", "--json").out)
    assert shown["runs"] == 400 and shown["env"] == "production"
    assert "base" in cli("baseline", "list").out
    store_runs(db, 400, 2, _ns(now) - HOUR_NS // 2, spacing_ns=10**9,
               scenario=Scenario(foreign_share=0.3))  # fmt: skip
    res = cli(
        "monitor", "--agent", "support-bot", "--env", "production", "--window", "1h", "--json"
    )
    assert res.code == 0, res.err
    report = json.loads(res.out)
    assert report["baseline"] == "base" and report["window_runs"] == 400
    drifted = [i["metric"] for i in report["items"] if i["drifted"]]
    assert "input_script" in drifted
    assert report["items"][0]["drifted"]  # most changed first
    item = next(i for i in report["items"] if i["metric"] == "input_script")
    assert (
        item["adjusted_p"] < 0.01
        and item["effect_size"] > 0.05
        and "cyrillic" in item["explanation"]
    )
    table = cli("monitor", "--agent", "support-bot", "--env", "production", "--window", "1h")
    assert "input_script" in table.out and "drifted" in table.out


def test_bad_rules_file_exits_2_naming_file_and_field(cli: Cli, tmp_path: Path) -> None:
    p = tmp_path / "alerts.yaml"
    p.write_text("rules:\n  - name: r\n    check: loop\n    severity: loud\n    window: 1h\n")
    res = cli("monitor", "--rules", str(p))
    assert res.code == 2 and f"{p}: rules[0].severity" in res.err and "Traceback" not in res.err


def test_follow_runs_n_iterations_and_alerts_are_listed_acked_resolved(
    cli: Cli, db: SqlStore, tmp_path: Path
) -> None:
    runs = store_runs(db, 60, 3, _ns(datetime.now(UTC)) - 10 * 10**9, spacing_ns=10**6)
    cli("check", runs[0].trace_id)
    from agentdeck.monitor.checks import on_runs_stored

    on_runs_stored(db, [r.trace_id for r in runs])
    p = tmp_path / "alerts.yaml"
    p.write_text(
        "rules:\n  - name: incomplete\n    check: task_incomplete\n    severity: critical\n"
        "    window: 1h\n    threshold: 1\n"
    )
    res = cli("monitor", "--rules", str(p), "--follow", "--interval", "0.01", "--iterations", "2")
    assert res.code == 0, res.err
    assert res.out.count("ALERT critical") == 1  # de-duplicated on the second pass
    (alert,) = json.loads(cli("alerts", "--json").out)
    assert alert["rule"] == "incomplete" and alert["status"] == "open"
    assert cli("alerts", "ack", alert["id"][:8]).code == 0
    assert json.loads(cli("alerts", "--json").out)[0]["status"] == "acknowledged"
    assert cli("alerts", "resolve", alert["id"]).code == 0
    assert json.loads(cli("alerts", "--json").out) == []
    assert json.loads(cli("alerts", "--all", "--json").out)[0]["status"] == "resolved"
    assert cli("alerts", "ack", "nope").code == 2


def test_every_monitoring_command_is_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()
    for cmd in ("baseline create", "baseline list", "baseline show", "check", "findings",
                "monitor", "alerts", "alerts ack", "alerts resolve"):  # fmt: skip
        assert f"## agentdeck {cmd}\n" in text, cmd


def test_check_on_a_provisional_run_shows_findings_without_storing_them(
    cli: Cli, db: SqlStore
) -> None:
    from provisional_data import write_both

    prov, real = write_both(db)
    res = cli("check", prov.trace_id, "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert out["provisional"] is True and out["stored"] is False
    assert out["findings"], "the failed tool call of the provisional run is reported"
    assert json.loads(cli("findings", "--run", prov.trace_id, "--json").out) == []
    table = cli("check", prov.trace_id)
    assert "is provisional" in table.out and "not stored" in table.out
    stored = json.loads(cli("check", real.trace_id, "--json").out)
    assert stored["provisional"] is False and stored["stored"] is True
