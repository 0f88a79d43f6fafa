"""Nothing is lost in silence: flush() says what was delivered, spilled and dropped; the block
mode never drops; the spill is re-sent by the same process; a hung server neither blocks the
agent's thread nor loses what fits in the spill."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from ingest_support import hung_server, ingest_server
from sdk_support import BOT, RESOLVER, start

from agentdeck.core.trace.model import Span
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.exporter import Exporter
from agentdeck.tracing.sdk.sink import HttpSink, InMemorySink

RUNS = 200
TOOLS = 5
ITEMS = RUNS * (TOOLS + 2)  # a run, its agent span and its tool spans


@sdk.tool
def ping(n: int) -> int:
    return n


class StallDrain:
    """A pending span whose building holds the drain thread until ``release`` is set."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.entered = threading.Event()
        self.release = threading.Event()

    def to_span(self) -> Span:
        self.entered.set()
        self.release.wait(30)
        return self.span


def _record(n: int = RUNS) -> list[str]:
    ids = []
    for r in range(n):
        with sdk.run(agent=BOT, input=r) as run:
            for i in range(TOOLS):
                ping(i)
        ids.append(run.trace_id)
    return ids


def _stall() -> StallDrain:
    """Hold the drain thread, so a bulk recording fills the queue deterministically."""
    with sdk.run(agent=BOT) as run:
        pass
    assert sdk.flush(5)
    cfg = rec.config
    assert cfg is not None
    stall = StallDrain(Span(run.trace_id, "f" * 16, None, "stall", rec.SpanKind.CUSTOM, 1, 2))
    cfg.exporter.submit(stall)
    assert stall.entered.wait(10)
    return stall


def test_a_bulk_recording_that_overflows_the_queue_is_reported_by_flush(tmp_path: Path) -> None:
    sink = start(tmp_path, queue_size=256, batch_size=64)
    try:
        stall = _stall()
        ids = _record()
        stall.release.set()
        result = sdk.flush(10)
        stats = sdk.stats()
        assert stats is not None
        assert not result and not result.timed_out
        assert result.dropped == stats.dropped == ITEMS - 256  # the queue held its size
        assert result.delivered == len(sink.spans) + len(sink.runs)
        assert len(sink.spans) + len(sink.runs) < ITEMS + 3
        assert set(ids) - {r.trace_id for r in sink.runs}  # whole runs are missing ...
    finally:
        sdk.shutdown(5)


def test_on_full_block_waits_for_room_and_drops_nothing(tmp_path: Path) -> None:
    sink = start(tmp_path, queue_size=256, batch_size=64, on_full="block")
    try:
        stall = _stall()
        ids: list[str] = []
        agent = threading.Thread(target=lambda: ids.extend(_record()))
        agent.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            stats = sdk.stats()
            if stats is not None and stats.blocked_submits:
                break
            time.sleep(0.01)
        stats = sdk.stats()
        assert stats is not None and stats.blocked_submits >= 1 and stats.queued == 256
        assert agent.is_alive()  # waiting for room, not dropping
        stall.release.set()
        agent.join(30)
        assert not agent.is_alive()
        result = sdk.flush(10)
        assert result, result
        assert result.dropped == 0 and result.delivered == ITEMS + 3
        assert {r.trace_id for r in sink.runs} >= set(ids) and len(ids) == RUNS
        assert len(sink.spans) == RUNS * (TOOLS + 1) + 2
    finally:
        sdk.shutdown(5)


def test_init_refuses_an_unknown_on_full(tmp_path: Path) -> None:
    import pytest

    from agentdeck.core.errors import InputError

    with pytest.raises(InputError, match="on_full"):
        sdk.init(sink=InMemorySink(), spill_dir=tmp_path, on_full="wait")  # type: ignore[arg-type]


def test_server_down_flush_is_falsy_and_the_same_process_resends_when_it_is_back(
    tmp_path: Path,
) -> None:
    with ingest_server() as (url, ingest):
        ingest.status = 503
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=tmp_path / "spill", schedule_delay=0.02)
        try:
            ids = _record(20)
            result = sdk.flush(5)
            assert not result and not result.timed_out
            assert result.spilled == 20 * (TOOLS + 2) and result.delivered == 0
            assert ingest.trace_ids() == set()
            ingest.status = None  # the server is back: no flush, no new process
            deadline = time.monotonic() + 30
            while ingest.trace_ids() != set(ids) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert ingest.trace_ids() == set(ids)
            assert len(ingest.spans) == 20 * (TOOLS + 1)
            result = sdk.flush(5)
            assert result and result.spilled == 0 and result.delivered == 20 * (TOOLS + 2)
            stats = sdk.stats()
            assert stats is not None and stats.resent_batches >= 1 and not stats.spill_pending
        finally:
            sdk.shutdown(5)


def test_a_hung_server_never_blocks_the_agent_and_loses_nothing_that_fits_the_spill(
    tmp_path: Path,
) -> None:
    spill = tmp_path / "spill"
    total = 100 * (TOOLS + 2)
    with hung_server() as url:
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=spill, queue_size=64, batch_size=16,
                 schedule_delay=0.01)  # fmt: skip
        cfg = rec.config
        assert cfg is not None
        exp = cfg.exporter
        try:
            worst = 0.0
            ids = []
            for r in range(100):
                t0 = time.perf_counter()
                with sdk.run(agent=BOT, input=r) as run:
                    for i in range(TOOLS):
                        ping(i)
                worst = max(worst, time.perf_counter() - t0)
                ids.append(run.trace_id)
                if r % 8 == 7:  # give the drain thread its turn, as a real agent's I/O does
                    deadline = time.monotonic() + 10
                    while exp.stats().queued and time.monotonic() < deadline:
                        time.sleep(0.002)
            assert not sdk.flush(0.5)  # nothing reached the server, and flush says so
            stats = exp.stats()
            assert stats.dropped == 0 and stats.lost == 0
            assert stats.spilled_items + stats.in_memory + stats.queued == total
            assert worst < 5.0  # HttpSink's timeout: an agent call never waits on a send
        finally:
            assert not sdk.shutdown(0.5)  # the hung send outlives it: memory goes to the spill
        assert exp.stats().spilled_items >= total
        assert exp.stats().lost == 0
    with ingest_server() as (url, ingest):  # the next process adopts the spill
        heir = Exporter(HttpSink(url), spill_dir=spill, schedule_delay=0.01)
        try:
            heir.flush(10)
            assert ingest.trace_ids() == set(ids)
            assert len(ingest.spans) == 100 * (TOOLS + 1)
        finally:
            heir.shutdown(5)
