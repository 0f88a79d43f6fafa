"""``make demo``'s script, end to end, on a store of its own: it must pass and tell the story."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
