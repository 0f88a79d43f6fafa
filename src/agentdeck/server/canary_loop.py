"""The server's canary loop: judge every active canary on a schedule and act on it.

The same shape as :mod:`agentdeck.server.alert_loop`: one daemon :class:`Worker` thread calls
:meth:`agentdeck.registry.canary.Canaries.tick` every ``interval`` seconds (the first time
right after start); a pass that raises is logged and counted and the loop goes on. Each
canary's row moves by compare-and-set, so several replicas running the loop act on a canary
once (the others lose the race and see the new state next pass).

Each action (advance, complete, rollback) is an alert through the sinks of
``AGENTDECK_ALERT_RULES`` (else the log sink): a rollback is critical, the rest are info. The
alert is stored too, so it shows with the others (``agentdeck alerts``, the UI).

Before judging, each pass runs a shadow pass (:func:`agentdeck.tracing.replay.shadow.shadow_pass`)
for every running shadow: the candidate on a bounded sample of the stable arm's new runs, tool
calls served from their recordings. The pairs are what the shadow's judgement reads.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from agentdeck.core.behaviour.records import AlertRecord
from agentdeck.monitor.alert_sinks import AlertSink, LogSink
from agentdeck.registry.canary import Canaries, CanaryAction
from agentdeck.server.worker import Worker
from agentdeck.tracing.replay.shadow import shadow_pass

log = logging.getLogger("agentdeck.server.canary")

_SEVERITY = {"rollback": "critical", "advance": "info", "complete": "info"}


def canary_alert(act: CanaryAction, now: datetime) -> AlertRecord:
    c, j = act.canary, act.judgement
    assert act.action is not None
    return AlertRecord(
        id=hashlib.sha256(f"canary:{c.id}:{act.action}:{c.step}".encode()).hexdigest()[:32],
        rule=f"canary.{act.action}",
        subject=f"{c.agent_name}@{c.env}",
        agent_name=c.agent_name,
        env=c.env,
        severity=_SEVERITY[act.action],
        status="resolved" if act.action != "rollback" else "open",
        message=f"canary of {c.agent_name}@{c.candidate_version}: {j.reason}",
        value=c.share,
        opened_at=now,
        last_seen_at=now,
        updated_at=now,
        action=f"canary {c.id} {act.action}",
    )


class CanaryLoop:
    """Runs :meth:`Canaries.tick` every ``interval`` seconds in a thread."""

    def __init__(
        self,
        canaries: Canaries,
        interval: float = 30.0,
        *,
        sinks: Mapping[str, AlertSink] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        shadow_paths: Sequence[Path] = (),
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, not {interval}")
        self.canaries = canaries
        self.interval = interval
        self.sinks: Mapping[str, AlertSink] = sinks if sinks is not None else {"log": LogSink()}
        self.clock = clock
        self.shadow_paths = tuple(shadow_paths)  # where candidates' code lives, if not recorded
        self.passes = self.actions = self.errors = self.shadowed = 0
        self._worker = Worker("agentdeck-canary-loop", self._run)

    @property
    def running(self) -> bool:
        return self._worker.running

    def start(self) -> None:
        self._worker.start()

    def close(self, timeout: float = 30.0) -> None:
        self._worker.close(timeout)

    def judge_once(self) -> list[CanaryAction]:
        """One pass over the active canaries; returns what each judgement did."""
        self.shadow_once()
        now = self.clock()
        done = self.canaries.tick(now)
        self.passes += 1
        for act in done:
            if act.action is None:
                continue
            self.actions += 1
            alert = canary_alert(act, now)
            try:
                self.canaries.store.put_alert(alert)
            except Exception as exc:  # e.g. a second replica stored it already
                log.warning("canary alert %s not stored: %s", alert.id, exc)
            for name, sink in self.sinks.items():
                try:
                    sink.send(alert)
                except Exception as exc:
                    log.warning("canary alert %s: sink %s failed: %s", alert.id, name, exc)
        return done

    def shadow_once(self) -> int:
        """Run the shadow pass of every running shadow; returns the shadow runs made."""
        made = 0
        for c in self.canaries.store.active_canaries():
            if not c.shadow or c.state.value != "running":
                continue
            try:
                made += len(shadow_pass(self.canaries.store, c, paths=self.shadow_paths))
            except Exception:
                self.errors += 1
                log.exception("shadow pass of canary %s failed", c.id)
        self.shadowed += made
        return made

    def _run(self) -> None:
        while not self._worker.stopping.is_set():
            try:
                self.judge_once()
            except Exception:
                self.errors += 1
                log.exception("canary judgement failed")
            self._worker.stopping.wait(self.interval)
