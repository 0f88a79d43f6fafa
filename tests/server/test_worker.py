"""The server's one background-thread lifecycle (server/worker.py): idempotent start and close,
restart after close, stop signal and wake-up, and a close that reports a thread that did not end."""

from __future__ import annotations

import queue
import threading

from agentdeck.server.worker import Worker


def test_start_twice_runs_one_thread_and_close_wakes_a_queue_worker() -> None:
    q: queue.Queue[int | None] = queue.Queue()
    seen: list[int] = []

    def run() -> None:
        while (item := q.get()) is not None:
            seen.append(item)

    w = Worker("test-queue-worker", run, wake=lambda: q.put(None))
    assert w.close(1) is True and not w.running  # closing a worker never started: a no-op
    w.start()
    w.start()
    assert w.running
    assert [t.name for t in threading.enumerate()].count("test-queue-worker") == 1
    q.put(1)
    q.put(2)
    assert w.close(30) is True  # what was queued is processed before the wake-up sentinel
    assert seen == [1, 2] and not w.running
    assert "test-queue-worker" not in [t.name for t in threading.enumerate()]


def test_a_loop_stops_on_close_and_can_start_again() -> None:
    passes: list[int] = []

    def loop() -> None:
        while not w.stopping.is_set():
            passes.append(1)
            w.stopping.wait(3600)  # only close() ends the wait

    w = Worker("test-loop-worker", loop)
    for _ in range(2):
        w.start()
        assert w.close(30) is True
    assert len(passes) == 2  # one pass per start: each close ended the wait


def test_close_reports_a_thread_that_did_not_end_in_time() -> None:
    release = threading.Event()
    w = Worker("test-stuck-worker", lambda: release.wait(60))
    w.start()
    assert w.close(0.01) is False  # it ignores the stop signal until released
    release.set()
    assert w.close(1) is True  # already detached: nothing left to join
