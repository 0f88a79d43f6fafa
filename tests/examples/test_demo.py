"""``make demo``'s script, end to end, on a store of its own: it must pass and tell the story."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.docs.doc_runner import run_document

from agentdeck.server.monitor_view import monitor_series
from agentdeck.store import RunQuery, open_store

DEMO = Path(__file__).resolve().parents[2] / "examples" / "support-bot" / "demo.py"


@pytest.mark.slow
def test_demo_tells_the_whole_story(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDECK_", "OPENAI_"))}
    env.update(AGENTDECK_DEMO_DB=str(tmp_path / "demo.db"), COLUMNS="200", PYTHONUNBUFFERED="1")
    proc = subprocess.run(
        [sys.executable, str(DEMO)], capture_output=True, text=True, env=env, timeout=300, check=False,
        cwd=tmp_path,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in out + proc.stderr
    expected = [
        "registered support-bot@1",
        "gate 'eval': no eval result of any suite for support-bot@1",  # refused before the eval
        "support-bot-core: 10/10 passed (100%) on support-bot@1",
        "promote support-bot@1 -> production",
        "production traffic on support-bot@1",
        "baseline v1-production: 300 runs",
        "support-bot-core: 9/10 passed (90%) on support-bot@2",
        "1 broken, 9 still passing",
        "promote support-bot@2 -> staging",
        "$ agentdeck env gates production --set canary.min_runs_per_arm=10",  # set visibly
        "$ agentdeck promote support-bot@2 --to production --canary 25",
        "canary started support-bot@2 in production against @1: 25 % of runs",
        "production traffic on support-bot@1 and @2 (25 %)",  # split by conversation
        "the canary rolled v2 back on its own: guard rail breached: tool_error",
        "after the rollback: 50 conversations, 50 on support-bot@1",
        "behaviour",  # the monitor's table names behavioural drift of v2's runs
        "behaviour-drift on support-bot@production",  # v2's runs (alerts.yaml) ...
        "drifted vs baseline v1-production: ",  # ... against v1's baseline
        "email-recipient",
        "canary support-bot@2 vs @1 in production: rolled_back, 0 % of runs",
        "production ran support-bot@1",  # `at` a moment of the canary: the stable version ...
        "and a canary of support-bot@2: 25 % of runs",  # ... and the candidate's share
        "audit chain verifies",
        "the manual way is one command",
        "added to suite prod-regressions",  # a bad answer becomes a test (docs/datasets.md)
        "prod-regressions: 1/1 passed (100%) on support-bot@1",
        "prod-regressions: 0/1 passed (0%) on support-bot@2",
        "cost by version",  # the spend per version ...
        "cost per run: $",  # ... and in the diff
        "agentdeck trace ",
        "agentdeck rca ",
        "agentdeck serve",
    ]
    missing = [line for line in expected if line not in out + proc.stderr]
    assert not missing, (missing, out[-4000:])
    assert "promote support-bot@2 -> production" not in out  # v2 goes out as a canary only
    # The runs whose confirmation e-mail failed say so: each records a failed tool call.
    told = re.search(
        r"(\d+) v2 runs told the customer the confirmation e-mail failed; (\d+) of them", out
    )
    assert told is not None and int(told.group(1)) > 0 and told.group(1) == told.group(2), out[
        -4000:
    ]
    assert "runs --agent support-bot --version 2 --env production --has-errors" in out
    # The steps are numbered in the order they are told.
    steps = [int(n) for n in re.findall(r"─ (\d+)\. ", out)]
    assert steps == list(range(1, 9)), steps
    # The judge's rollback, where the fixed canary id puts it (the same every run).
    rolled = re.search(r"after (\d+) conversations the canary rolled v2 back on its own", out)
    assert rolled is not None and rolled.group(1) == "250", out[-4000:]
    assert (
        out.index("support-bot@1 -> dev")
        < out.index("canary started")
        < out.index("rolled v2 back on its own")
        < out.index("$ agentdeck history")
    )
    # history: the promotion of v1, then the canary's start and its rollback by the judge,
    # with the evidence, in the audit log's order
    hist = out.split("$ agentdeck history support-bot --env production", 1)[1].split("$ ", 1)[0]
    assert re.search(r"canary started \([0-9a-f]{12}\): canary of support-bot@2", hist), hist
    assert re.search(r"canary rolled back \([0-9a-f]{12}\): guard rail breached", hist), hist
    assert hist.index(" promote ") < hist.index("canary started") < hist.index("rolled back")
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    steps_audited = store.audit_entries("support-bot@production", "deployment.canary.")
    assert [e.action for e in steps_audited] == [
        "deployment.canary.start",
        "deployment.canary.rollback",
    ]
    rollback = steps_audited[1]
    assert rollback.actor == "agentdeck" and rollback.payload["share"] == 0
    evidence = rollback.payload["judgement"]
    assert evidence["decision"] == "rollback" and "tool_error" in evidence["reason"]
    # production serves v1 afterwards: the head is v1's promotion, the runs after the
    # rollback are v1's, and v2 took only its share before it
    head = store.head("support-bot", "production")
    assert head is not None and head.agent_version == 1
    since = int(datetime.fromisoformat(rollback.at).timestamp() * 1e9)
    later = store.find_runs(RunQuery(agent_name="support-bot", env="production", limit=1000))
    assert {r.agent_version for r in later if r.start_ns > since} == {1}
    v2 = [r for r in later if r.agent_version == 2]
    assert 0 < len(v2) < len([r for r in later if r.start_ns > v2[0].start_ns - 10**9])
    # The v1 traffic is stamped over the simulated twelve hours before the demo, the canary's
    # live: the monitors page's twelve hourly buckets each hold runs, and drift only in the last.
    series = monitor_series(
        store, "support-bot", "production", datetime.now(UTC), timedelta(hours=12), 12
    )
    store.close()
    assert all(n > 0 for n in series.runs) and sum(series.runs) > 500, series.runs
    drift = series.drift_score
    assert max(d or 0 for d in drift[:11]) == 0 < (drift[11] or 0), drift
    _the_closing_hints_run_as_printed(out, tmp_path)


def _the_closing_hints_run_as_printed(out: str, tmp_path: Path) -> None:
    """Each line under "Point the CLI at it:" runs as printed, in order, in a shell (the
    server in the background until the others have run): the docs test's runner."""
    hints = [
        line.strip()
        for line in out.split("Point the CLI at it:", 1)[1].splitlines()
        if line.startswith("  ") and line.strip()
    ]
    assert hints[0].startswith("export AGENTDECK_DATABASE_URL=sqlite:///"), hints
    assert any(" serve" in h for h in hints) and any(" trace " in h for h in hints), hints
    # the manual rollback, printed as the manual way, runs as printed too (with the others)
    manual = [h for h in hints if " rollback support-bot --env production " in h]
    assert len(manual) == 1 and manual[0].endswith("# the manual way"), hints
    assert manual[0].split("   #")[0].split("agentdeck ", 1)[1] in out.split("Explore further")[0]
    shell = [h for h in hints if " serve" not in h]
    serve = [h for h in hints if " serve" in h]
    doc = tmp_path / "hints.md"
    doc.write_text(
        "```console\n"
        + "".join(f"$ {h}\n" for h in shell)
        + "```\n\n<!-- background: the server -->\n```console\n"
        + "".join(f"$ {h}\n" for h in serve)
        + "```\n"
    )
    (tmp_path / "hints").mkdir()
    failures = run_document(doc, tmp_path / "hints", label="demo's closing hints")
    assert not failures, str(failures[0])
