"""After ingest: per-run checks and online evaluators on runs the server just stored.

The ingest writer calls :meth:`AfterIngest.submit` with the runs of each committed batch. That
call only puts their trace ids on a bounded queue (never blocks, never raises: when the queue is
full the batch is dropped and counted), so neither the request nor the SQLite writer thread
waits for monitoring. One daemon thread takes the ids and

- checks the runs with the server's long-lived :class:`~agentdeck.monitor.checks.RunChecker`
  (:func:`~agentdeck.monitor.checks.on_runs_stored`: findings, run summaries, metrics);
- scores them with the configured :class:`~agentdeck.evals.online.OnlineEvaluation`, if any
  (scores are stored as ``eval`` spans);
- applies ingest sampling last (:mod:`agentdeck.tracing.sampling.keep`), so a run whose spans
  are dropped was checked, summarized and scored from them first.

A failure is logged and counted in :attr:`AfterIngest.stats`; it never reaches the client, whose
spans are already committed. Runs dropped here are still checked later: window checks and
baselines back-fill missing summaries from spans.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from agentdeck.core.trace.model import Run
from agentdeck.evals.online import OnlineEvaluation
from agentdeck.monitor.checks import CheckerStore, RunChecker, on_runs_stored
from agentdeck.server.worker import Worker

log = logging.getLogger("agentdeck.server.after_ingest")


@dataclass
class AfterIngestStats:
    checked: int = 0
    findings: int = 0
    scored: int = 0
    dropped: int = 0
    errors: int = 0
    sampled_out: int = 0  # runs whose spans ingest sampling dropped


class AfterIngest:
    """A queue and one worker thread running checks and online evaluators on stored runs."""

    def __init__(
        self,
        store: CheckerStore,
        checker: RunChecker | None,
        online: OnlineEvaluation | None = None,
        *,
        max_pending: int = 1024,
        sampler: Callable[[Sequence[str]], int] | None = None,
    ) -> None:
        self.store = store
        self.checker = checker
        self.online = online
        self.sampler = sampler  # ingest sampling, after checks and scores (docs/datasets.md)
        self.stats = AfterIngestStats()
        self._queue: queue.Queue[tuple[str, ...] | None] = queue.Queue(maxsize=max_pending)
        self._worker = Worker("agentdeck-after-ingest", self._run,
                              wake=lambda: self._queue.put(None))  # fmt: skip
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.checker is not None or self.online is not None or self.sampler is not None

    def start(self) -> None:
        if self.enabled:
            self._worker.start()

    def close(self, timeout: float = 10.0) -> None:
        """Finish what is queued (up to ``timeout``), then stop the thread."""
        self._worker.close(timeout)

    def submit(self, runs: Sequence[Run]) -> None:
        """Queue ``runs`` (just committed) for checking; never blocks, never raises."""
        if not self._worker.running or not runs:
            return
        try:
            self._queue.put_nowait(tuple(r.trace_id for r in runs))
        except queue.Full:
            with self._lock:
                self.stats.dropped += len(runs)

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is processed (tests, shutdown); True if done."""
        done = threading.Event()
        if not self._worker.running:
            return True

        def waiter() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=waiter, daemon=True).start()
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            ids = self._queue.get()
            try:
                if ids is None:
                    return
                self.process(ids)
            finally:
                self._queue.task_done()

    def process(self, trace_ids: Sequence[str]) -> None:
        """Check and score ``trace_ids`` now (the worker's body; errors are logged)."""
        if self.checker is not None:
            try:
                found = on_runs_stored(self.store, trace_ids, self.checker)
                with self._lock:
                    self.stats.checked += len(trace_ids)
                    self.stats.findings += len(found)
            except Exception:
                with self._lock:
                    self.stats.errors += 1
                log.exception("checking %d ingested runs failed", len(trace_ids))
        if self.online is not None:
            for tid in trace_ids:
                try:
                    run = self.store.get_run(tid)
                    if run is None or run.end_ns is None:
                        continue
                    if self.online.score_run(self.store, run):
                        with self._lock:
                            self.stats.scored += 1
                except Exception:
                    with self._lock:
                        self.stats.errors += 1
                    log.exception("online evaluation of %s failed", tid)
        if self.sampler is not None:
            try:
                n = self.sampler(trace_ids)
                with self._lock:
                    self.stats.sampled_out += n
            except Exception:
                with self._lock:
                    self.stats.errors += 1
                log.exception("sampling %d ingested runs failed", len(trace_ids))


def load_online(ref: str) -> OnlineEvaluation:
    """Import ``module:function`` and call it for the server's online evaluation (errors name
    ``AGENTDECK_ONLINE_EVALUATORS``)."""
    import importlib

    from agentdeck.core.errors import InputError

    module_name, _, fn_name = ref.partition(":")
    where = f"AGENTDECK_ONLINE_EVALUATORS={ref}"
    if not module_name or not fn_name:
        raise InputError(f"{where}: expected module:function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"{where}: cannot import {module_name}: {exc}") from None
    fn = getattr(module, fn_name, None)
    if not callable(fn):
        raise InputError(f"{where}: {module_name} has no function {fn_name!r}")
    online = fn()
    if not isinstance(online, OnlineEvaluation):
        raise InputError(f"{where}: returned {type(online).__name__}, not an OnlineEvaluation")
    return online
