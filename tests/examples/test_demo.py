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
from agentdeck.store import open_store

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
        "promote support-bot@2 -> production",
        "lookup_order API 2.0 rolled out in production",
        "tool_api",  # the monitor's table names tool API drift ...
        "behaviour",  # ... and behavioural drift
        "behaviour-drift on support-bot@production",
        "tool-api-drift on support-bot@production",
        "email-recipient",
        "rolled back support-bot in production to support-bot@1",
        "production ran support-bot@2",  # `at` the incident time
        "audit chain verifies",
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
    # The runs whose confirmation e-mail failed say so: each records a failed tool call.
    told = re.search(
        r"(\d+) v2 runs told the customer the confirmation e-mail failed; (\d+) of them", out
    )
    assert told is not None and int(told.group(1)) > 0 and told.group(1) == told.group(2), out[
        -4000:
    ]
    assert "runs --agent support-bot --version 2 --env production --has-errors" in out
    assert (
        out.index("support-bot@1 -> dev")
        < out.index("support-bot@2 -> production")
        < out.index("rolled back")
    )
    # The traffic is stamped over the simulated twelve hours before the demo (v1's, then v2's
    # from a whole hour),
    # so the monitors page's twelve hourly buckets each hold runs and the incident is a step.
    assert re.search(
        r"v2's runs are stamped (\d\d):00-\d\d:\d\d UTC; the incident starts at \1:00", out
    )
    store = open_store(f"sqlite:///{tmp_path / 'demo.db'}")
    series = monitor_series(
        store, "support-bot", "production", datetime.now(UTC), timedelta(hours=12), 12
    )
    store.close()
    assert all(n > 0 for n in series.runs) and sum(series.runs) > 500, series.runs
    # buckets 0-5 hold v1's runs only, 7-11 v2's only (v2 went out 5 to 6 hours before the end)
    drift = series.drift_score
    assert max(d or 0 for d in drift[:6]) == 0 < min(d or 0 for d in drift[7:]), drift
    share = series.tool_share["lookup_order"]
    # (the last bucket also holds step 9's canary traffic, run live on the provider's old API)
    assert all(v is not None for v in share) and min(share[7:-1]) > max(share[:6]) + 0.1, share
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
