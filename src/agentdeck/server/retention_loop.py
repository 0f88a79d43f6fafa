"""The server's retention loop: every ``interval`` seconds, delete the runs older than each
environment's ``retention.days`` (what ``agentdeck gc`` does), audited as ``runs.expire``.

One daemon thread (:class:`~agentdeck.server.worker.Worker`), the first pass right after
start. A pass that raises (a retention set to something invalid by hand, the store
unreachable) is logged and counted, and the loop goes on. Several replicas may run it: a
run is deleted once, a second replica finds nothing left to delete.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from agentdeck.server.worker import Worker
from agentdeck.store.protocol import Store
from agentdeck.tracing.lifecycle.erase import expire_runs

log = logging.getLogger("agentdeck.server.retention")


class RetentionLoop:
    def __init__(
        self, store: Store, interval: float = 3600.0, *, clock: Callable[[], int] = time.time_ns
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.store, self.interval, self.clock = store, interval, clock
        self.passes = self.deleted = self.errors = 0
        self._worker = Worker("agentdeck-retention-loop", self._run)

    @property
    def running(self) -> bool:
        return self._worker.running

    def start(self) -> None:
        self._worker.start()

    def close(self, timeout: float = 30.0) -> None:
        self._worker.close(timeout)

    def run_once(self) -> int:
        """One pass; how many runs it deleted."""
        n = sum(r.runs for r in expire_runs(self.store, self.clock(), "server:retention"))
        self.passes += 1
        self.deleted += n
        return n

    def _run(self) -> None:
        while not self._worker.stopping.is_set():
            try:
                self.run_once()
            except Exception:
                self.errors += 1
                log.exception("retention pass failed")
            self._worker.stopping.wait(self.interval)
