"""The server's alert-rule loop: evaluate the rules of ``AGENTDECK_ALERT_RULES`` on a schedule.

One daemon thread (store calls block, so not an asyncio task on the event loop) calls
:func:`~agentdeck.monitor.alerts.evaluate_alert_rules` every ``interval`` seconds, the first
time right after start. :meth:`AlertLoop.close` wakes it and joins it, so the server stops
cleanly on shutdown (an evaluation in progress finishes first). A pass that raises is logged and
counted; the loop goes on. Alerts are de-duplicated in the store, so several replicas running
the loop fire each alert once per open period (a second replica only refreshes it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from agentdeck.monitor.alert_rules import AlertConfig
from agentdeck.monitor.alerts import evaluate_alert_rules
from agentdeck.server.worker import Worker
from agentdeck.store.protocol import Store

log = logging.getLogger("agentdeck.server.alerts")


class AlertLoop:
    """Evaluates ``config`` against ``store`` every ``interval`` seconds in a thread."""

    def __init__(
        self,
        store: Store,
        config: AlertConfig,
        interval: float = 60.0,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.store = store
        self.config = config
        self.interval = interval
        self.clock = clock
        self.passes = 0
        self.fired = 0
        self.errors = 0
        self._worker = Worker("agentdeck-alert-loop", self._run)

    @property
    def running(self) -> bool:
        return self._worker.running

    def start(self) -> None:
        self._worker.start()

    def close(self, timeout: float = 30.0) -> None:
        self._worker.close(timeout)

    def evaluate_once(self) -> int:
        """One pass; returns how many alerts fired."""
        fired = evaluate_alert_rules(self.store, self.config, self.clock())
        self.passes += 1
        self.fired += len(fired)
        return len(fired)

    def _run(self) -> None:
        while not self._worker.stopping.is_set():
            try:
                self.evaluate_once()
            except Exception:
                self.errors += 1
                log.exception("alert rules evaluation failed")
            self._worker.stopping.wait(self.interval)
