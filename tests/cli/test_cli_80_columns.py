"""The CLI read at 80 columns, on the demo's data: compact tables, full metric names, hints
and commands that never wrap (copy-paste works), a successful run's rca said plainly."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdeck.cli import common
from agentdeck.store import SqlStore
from foundation import REPO, Cli

DEMO = REPO / "examples" / "support-bot" / "demo.py"
WIDTH = 80


def _env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDECK_", "OPENAI_"))}
    env.update(COLUMNS=str(WIDTH), LINES="50", PYTHONUNBUFFERED="1", TERM="dumb")
    env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{db}"
    env["AGENTDECK_DEMO_DB"] = str(db)
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The demo run once at 80 columns: its database and what it printed."""
    tmp = tmp_path_factory.mktemp("demo80")
    db = tmp / "demo.db"
    proc = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, env=_env(db),
        timeout=600, check=False, cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    yield db, proc.stdout


def _agentdeck(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentdeck.cli.main", *args], capture_output=True, text=True,
        env=_env(db), timeout=300, check=False, cwd=db.parent,
    )  # fmt: skip


def _fits(text: str) -> None:
    """No line past the width but the hints, printed whole to be copied (``--cursor ...``)."""
    too_wide = [
        ln for ln in text.splitlines() if len(ln) > WIDTH and not ln.startswith("next page: ")
    ]
    assert too_wide == []


@pytest.mark.slow
def test_the_demos_hints_and_commands_are_printed_whole(demo: tuple[Path, str]) -> None:
    db, out = demo
    lines = out.splitlines()
    export = [ln for ln in lines if "export AGENTDECK_DATABASE_URL=" in ln]
    assert len(export) == 1
    assert export[0].strip() == f"export AGENTDECK_DATABASE_URL=sqlite:///{db}"
    # every command the demo echoes is on one line, however long
    for ln in lines:
        if ln.startswith("$ agentdeck env gates production") and "eval.must_pass" in ln:
            assert ln.rstrip().endswith(
                '\'eval.must_pass=["refund-wrong-email","refund-above-approval-limit"]\''
            )
    # digests are printed whole on their line, to be copied
    assert any(re.fullmatch(r"registered support-bot@1  sha256:[0-9a-f]{64}", ln) for ln in lines)
    assert any(
        re.fullmatch(
            r"baseline v1-production: \d+ runs of support-bot@sha256:[0-9a-f]{64} env=production",
            ln,
        )
        for ln in lines
    )
    # the closing hints name the CLI as typed from where the demo ran (a path ending agentdeck)
    hints = [ln for ln in lines if ln.startswith("  ") and ln.split()[:1]
             and ln.split()[0].endswith("agentdeck")]  # fmt: skip
    assert hints, out[-2000:]
    for i, ln in enumerate(lines[:-1]):
        if ln in hints:  # the line after a hint is another hint or blank: nothing wrapped
            nxt = lines[i + 1].strip()
            assert nxt == "" or lines[i + 1] in hints or not nxt[0].isalnum(), (ln, nxt)


@pytest.mark.slow
def test_the_monitor_report_is_compact_and_names_tools(demo: tuple[Path, str]) -> None:
    db, _ = demo
    r = _agentdeck(
        db, "monitor", "--agent", "support-bot@2", "--env", "production", "--window", "2w",
        "--baseline", "v1-production",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert 10 < len(lines) <= 60, r.stdout
    _fits(r.stdout)
    # v2's canary runs (step 5): the failed e-mails drifted, each tool named (send_email's
    # validity among them, too few calls to test but named)
    assert any(ln.startswith("tool_error_rate ") for ln in lines), r.stdout
    assert "args_validity_rate[send_email]" in r.stdout and "lookup_order" in r.stdout
    assert "…" not in r.stdout  # no metric name or figure elided
    full = json.loads(
        _agentdeck(db, "monitor", "--agent", "support-bot@2", "--env", "production",
                   "--window", "2w", "--baseline", "v1-production", "--json").stdout
    )  # fmt: skip
    for item in full["items"]:  # every compared metric is named in the report
        assert item["metric"] in r.stdout or re.sub(r"\[.*", "", item["metric"]) in r.stdout


@pytest.mark.slow
def test_runs_history_and_alerts_fit_80_columns(demo: tuple[Path, str]) -> None:
    db, _ = demo
    runs = _agentdeck(db, "runs", "--agent", "support-bot", "--limit", "20")
    assert runs.returncode == 0, runs.stderr
    _fits(runs.stdout)
    listed = json.loads(_agentdeck(db, "runs", "--agent", "support-bot", "--limit", "20",
                                   "--json").stdout)  # fmt: skip
    for run in listed:  # one line a run: its id, its status and the start of its input
        (line,) = [ln for ln in runs.stdout.splitlines() if run["trace_id"][:12] in ln]
        shown = run["input"] if isinstance(run["input"], str) else json.dumps(run["input"])
        assert run["status"] in line and " ".join(shown.split())[:8] in line
    for args in (("history", "support-bot", "--env", "production"), ("alerts", "--all")):
        r = _agentdeck(db, *args)
        assert r.returncode == 0, r.stderr
        _fits(r.stdout)
        assert "…" not in r.stdout, r.stdout


@pytest.mark.slow
def test_rca_of_a_run_that_succeeded_says_so(demo: tuple[Path, str]) -> None:
    db, _ = demo
    ok = json.loads(_agentdeck(db, "runs", "--status", "ok", "--limit", "200", "--json").stdout)
    clean = [r for r in ok if r["tool_errors"] == 0 and r["denied_calls"] == 0][:12]
    said = [_agentdeck(db, "rca", r["trace_id"]).stdout for r in clean]
    succeeded = [s for s in said if "succeeded: no step failed, nothing to explain" in s]
    assert succeeded, said
    for s in said:  # the rest: an online eval that did not pass, said so; never "... ok"
        # an ok run: nothing to explain; a failed online eval named; or a finding on an ok
        # run (step 5's v2 canary runs meet lookup_order's old API) explained from its root
        explained = "ended without a failed step" in s and "\nroot cause: " in s
        assert s in succeeded or s.startswith("failure: eval ") or explained, s
        assert not s.splitlines()[0].endswith(" ok"), s
    bad = next(r for r in ok if r["tool_errors"] > 0)
    assert _agentdeck(db, "rca", bad["trace_id"]).stdout.startswith("failure:")


# -- in-process, at width 80 -----------------------------------------------------------------


@pytest.fixture
def narrow(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setattr(common.console, "width", WIDTH)
    monkeypatch.setattr(common.err_console, "width", WIDTH)
    return cli


def test_the_runs_table_puts_a_shared_agent_and_env_in_its_title(
    narrow: Cli, seeded: SqlStore, tmp_path: Path
) -> None:
    from run_summary_data import record_runs

    ids = record_runs(seeded, tmp_path)
    out = narrow("runs").out
    _fits(out)
    title = out.splitlines()[0]
    assert title.startswith("runs (4) of support-bot@1 in production")
    for trace_id in ids.values():
        assert sum(trace_id[:12] in ln for ln in out.splitlines()) == 1
    assert narrow("runs", "--agent", "nobody").out.strip() == "no runs match"


def test_a_follow_heartbeat_shows_while_waiting(narrow: Cli, tmp_path: Path) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        "rules:\n- name: errors\n  metric: error_rate\n  agent: support-bot\n"
        "  op: '>'\n  threshold: 0.5\n  window: 1h\n  severity: warning\n"
    )
    r = narrow("monitor", "--rules", rules, "--follow", "--interval", "0.05", "--iterations", "3")
    assert r.code == 0, r.err
    beats = [ln for ln in r.err.splitlines() if "next in 0.05s" in ln]
    assert len(beats) == 2, r.err  # between the three passes
    assert re.match(r"\d\d:\d\d:\d\d UTC: pass 1, 1 rule evaluated, 0 alerts fired", beats[0])
    assert beats[1].split(": ", 1)[1].startswith("pass 2")
