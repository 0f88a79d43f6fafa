"""Faults: the server is killed with SIGKILL while the SDK's exporter is sending, then restarted;
every span the agent recorded is stored exactly once (spill + retry on the client, commit before
the answer and idempotent writes on the server)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from live import LiveServer, free_port
from sqlalchemy import func, select

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store
from agentdeck.store.tables import spans as spans_table
from agentdeck.tracing.sdk import api as sdk
from tracing.sdk_support import make_agent

pytestmark = pytest.mark.slow
RUNS = 400
SPANS_PER_RUN = 3


def test_sigkill_mid_send_then_restart_stores_every_span_exactly_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    store = open_store(url)
    key = create_key(store, "sdk", ["ingest"], "test").token
    server = LiveServer(url, free_port(), tmp_path / "server.log").start()
    sdk.init(
        endpoint=server.url,
        api_key=key,
        spill_dir=tmp_path / "spill",
        schedule_delay=0.01,
        batch_size=32,
    )
    agent = make_agent()
    trace_ids: list[str] = []
    started = threading.Event()

    def agent_loop() -> None:
        for i in range(RUNS):
            with sdk.run(agent=agent, input={"i": i}) as run:
                with sdk.span("plan", "custom"):
                    pass
                with sdk.span("lookup", "retrieval"):
                    pass
            trace_ids.append(run.trace_id)
            if i == 40:
                started.set()
            time.sleep(0.002)

    worker = threading.Thread(target=agent_loop)
    try:
        worker.start()
        assert started.wait(10)
        time.sleep(0.1)  # the exporter is mid-stream now
        server.kill()
        time.sleep(0.5)  # sends fail and spill meanwhile
        server.start()
        worker.join(60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stats = sdk.stats()
            assert stats is not None
            if sdk.flush(10) and not stats.spill_pending and stats.queued == 0:
                break
            time.sleep(0.2)
        stats = sdk.stats()
        assert stats is not None and stats.dropped == 0 and stats.lost == 0
        assert stats.failed_writes > 0  # the kill did interrupt delivery
    finally:
        sdk.shutdown(timeout=10)
        server.stop()
    assert len(trace_ids) == RUNS
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(spans_table.c.trace_id, func.count()).group_by(spans_table.c.trace_id)
        ).all()
    per_trace = dict(rows)
    assert set(per_trace) == set(trace_ids)
    assert all(per_trace[t] == SPANS_PER_RUN for t in trace_ids)
    assert all(store.get_run(t) is not None for t in trace_ids[:: RUNS // 20])
    store.close()
