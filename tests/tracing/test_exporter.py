"""The exporter: drop-and-count, spill and re-send, idempotent delivery, timeouts, fork."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest
from sdk_support import BOT, start

from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.exporter import Exporter
from agentdeck.tracing.sdk.sink import InMemorySink
from agentdeck.tracing.sdk.spill import SpillFile


@sdk.tool
def ping(n: int) -> int:
    return n


def _span(i: int) -> Span:
    return Span("a" * 32, f"{i + 1:016x}", None, f"s{i}", SpanKind.CUSTOM, i, i + 1, seq=i)


class FlakySink(InMemorySink):
    """Fails while ``down``; with ``partial`` it stores half a batch before failing."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.partial = False
        self.attempts = 0

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.attempts += 1
        if self.down:
            if self.partial:
                super().write_batch([], spans[: len(spans) // 2])
            raise ConnectionError("store unreachable")
        super().write_batch(runs, spans)


class BlockingSink(InMemorySink):
    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
        self.entered.set()
        self.release.wait(10)
        super().write_batch(runs, spans)


def test_a_failing_sink_never_reaches_the_agent(tmp_path: Path) -> None:
    sink = FlakySink()
    sink.down = True
    start(tmp_path, sink=sink)
    try:
        with sdk.run(agent=BOT) as run:
            assert ping(1) == 1
        result = sdk.flush(5)
        assert not result and not result.timed_out and result.spilled == 3  # run + 2 spans
        stats = sdk.stats()
        assert stats is not None and stats.failed_writes >= 1 and stats.spill_pending
        assert "store unreachable" in (stats.last_error or "")
        assert sink.trace(run.trace_id) == []
    finally:
        sdk.shutdown(5)


def test_spilled_spans_are_resent_once_the_sink_recovers_without_loss_or_duplicates(
    tmp_path: Path,
) -> None:
    sink = FlakySink()
    sink.down = sink.partial = True  # half of each failed batch is stored: re-sends overlap
    start(tmp_path, sink=sink, batch_size=8)
    try:
        trace_ids = []
        for r in range(5):
            with sdk.run(agent=BOT, input=r) as run:
                for i in range(10):
                    ping(i)
            trace_ids.append(run.trace_id)
            result = sdk.flush(5)
            assert not result and not result.timed_out and result.spilled == 12 * (r + 1)
        stats = sdk.stats()
        assert stats is not None and stats.spilled_batches >= 5 and stats.spill_pending
        assert list((tmp_path / "spill").glob("spill-*.jsonl"))
        sink.down = False
        result = sdk.flush(5)
        assert result and result.spilled == 0 and result.delivered >= 60
        stats = sdk.stats()
        assert stats is not None and not stats.spill_pending and stats.resent_batches >= 5
        assert sink.duplicate_spans > 0  # the overlap was re-sent ...
        assert len(sink.spans) == 5 * 11  # ... and stored exactly once
        assert len({(s.trace_id, s.span_id) for s in sink.spans}) == 55
        assert sorted(r.trace_id for r in sink.runs) == sorted(trace_ids)
    finally:
        sdk.shutdown(5)


class SlowPending:
    """A pending span whose building stalls the drain thread until ``release`` is set."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def to_span(self) -> Span:
        self.entered.set()
        self.release.wait(10)
        return _span(0)


def test_overflow_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    sink = InMemorySink()
    exp = Exporter(sink, spill_dir=tmp_path, queue_size=4, batch_size=1, schedule_delay=0.01)
    slow = SlowPending()
    exp.submit(slow)
    assert slow.entered.wait(5)  # the drain thread is now stuck building a span
    for i in range(1, 11):
        exp.submit(_span(i))
    stats = exp.stats()
    assert (stats.submitted, stats.queued, stats.dropped) == (11, 4, 6)
    slow.release.set()
    result = exp.flush(5)
    assert not result and result.dropped == 6 and result.delivered == 5
    assert exp.shutdown(5)
    assert sorted(s.seq for s in sink.spans) == [0, 7, 8, 9, 10]  # the newest survived
    assert exp.stats().dropped == 6


def test_a_hung_sink_neither_fills_the_queue_nor_drops(tmp_path: Path) -> None:
    sink = BlockingSink()
    exp = Exporter(sink, spill_dir=tmp_path, queue_size=4, batch_size=1, schedule_delay=0.01)
    exp.submit(_span(0))
    assert sink.entered.wait(5)  # the sender is stuck inside the sink
    deadline = time.monotonic() + 30
    for i in range(1, 101):  # a queue's worth at a time: the drain thread must keep up
        exp.submit(_span(i))
        while i % 4 == 0 and exp.stats().queued and time.monotonic() < deadline:
            time.sleep(0.005)
    while exp.stats().queued and time.monotonic() < deadline:
        time.sleep(0.005)
    stats = exp.stats()
    assert stats.dropped == 0 and stats.queued == 0
    assert stats.spilled_items + stats.in_memory == 101  # 4 handed off + 1 in flight, 96 spilled
    sink.release.set()
    result = exp.flush(10)
    assert result and result.delivered == 101
    assert exp.shutdown(5)
    assert sorted(s.seq for s in sink.spans) == list(range(101))


def test_flush_and_shutdown_time_out_on_a_hung_sink(tmp_path: Path) -> None:
    sink = BlockingSink()
    exp = Exporter(sink, spill_dir=tmp_path, schedule_delay=0.01)
    exp.submit(_span(0))
    assert sink.entered.wait(5)
    exp.submit(_span(1))
    result = exp.flush(timeout=0.05)
    assert result.timed_out and not result and result.pending == 2  # in flight + handed off
    assert exp.shutdown(timeout=0.05) is False
    sink.release.set()
    exp._thread.join(5)
    assert not exp._thread.is_alive()


def test_spill_resumes_from_its_offset_and_orphans_are_adopted(tmp_path: Path) -> None:
    first = SpillFile(tmp_path)
    for b in range(3):
        first.append([], [_span(b * 2), _span(b * 2 + 1)])

    class FailSecond(InMemorySink):
        calls = 0

        def write_batch(self, runs: Sequence[Run], spans: Sequence[Span]) -> None:
            self.calls += 1
            if self.calls == 2:
                raise ConnectionError("down")
            super().write_batch(runs, spans)

    sink = FailSecond()
    with pytest.raises(ConnectionError):
        first.resend(sink)
    assert first.pending and len(sink.spans) == 2
    assert first._f is not None
    first._f.close()  # the owning process dies: its lock goes, the file stays
    heir = SpillFile(tmp_path)
    assert heir.resend(sink) == 2  # batches 2 and 3, from the saved offset
    assert sorted(s.seq for s in sink.spans) == [0, 1, 2, 3, 4, 5] and sink.duplicate_spans == 0
    assert not list(tmp_path.glob("spill-*"))


def test_a_live_spill_file_is_not_adopted(tmp_path: Path) -> None:
    owner = SpillFile(tmp_path)
    owner.append([], [_span(0)])
    other = SpillFile(tmp_path)
    sink = InMemorySink()
    assert other.resend(sink) == 0 and sink.spans == []
    owner.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_the_worker_is_recreated_in_a_forked_child(tmp_path: Path) -> None:
    sink = start(tmp_path)
    try:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: record and deliver with its own worker
            code = 1
            try:
                os.close(r)
                with sdk.run(agent=BOT):
                    ping(1)
                ok = sdk.flush(5)
                os.write(w, f"{int(bool(ok))},{len(sink.spans)}".encode())
                code = 0
            finally:
                os._exit(code)
        os.close(w)
        with os.fdopen(r) as f:
            answer = f.read()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert answer == "1,2"
    finally:
        sdk.shutdown(5)
