"""The loss window of a SIGKILL of the agent's process: what was spilled survives (the next
process adopts and re-sends it); only what was still in memory can be lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from ingest_support import ingest_server

from agentdeck.tracing.sdk.exporter import Exporter
from agentdeck.tracing.sdk.sink import HttpSink

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from agentdeck.core.trace.model import Span, SpanKind
    from agentdeck.tracing.sdk.exporter import Exporter
    from agentdeck.tracing.sdk.sink import HttpSink

    url, spill = sys.argv[1], sys.argv[2]
    exp = Exporter(HttpSink(url), spill_dir=spill, batch_size=50, schedule_delay=0.01)
    for i in range(200):
        exp.submit(Span("c" * 32, f"{i + 1:016x}", None, "s", SpanKind.CUSTOM, i, i + 1, seq=i))
    result = exp.flush(10)
    print(result.spilled, result.delivered, flush=True)
    for i in range(200, 260):  # recorded, never flushed: the window a SIGKILL can lose
        exp.submit(Span("c" * 32, f"{i + 1:016x}", None, "s", SpanKind.CUSTOM, i, i + 1, seq=i))
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_what_was_spilled_survives_a_sigkill_of_the_agent(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    src = Path(__file__).resolve().parents[2] / "src"
    with ingest_server() as (url, ingest):
        ingest.status = 503  # down for the child's whole life
        child = subprocess.run(
            [sys.executable, "-c", CHILD, url, str(spill)],
            capture_output=True,
            timeout=60,
            env={**os.environ, "PYTHONPATH": str(src)},
        )
        assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
        assert child.stdout.split() == [b"200", b"0"]  # flush said: all 200 only spilled
        assert ingest.spans == {}
        ingest.status = None
        heir = Exporter(HttpSink(url), spill_dir=spill, schedule_delay=0.01)
        try:
            assert heir.flush(10)
        finally:
            heir.shutdown(5)
        seqs = sorted(s.seq for s in ingest.spans.values())
        assert seqs[:200] == list(range(200))  # every spilled span arrived, once
        assert set(seqs[200:]) <= set(range(200, 260))  # the unflushed tail may be lost
    assert not list(spill.glob("spill-*"))
