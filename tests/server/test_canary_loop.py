"""The server's canary loop judges active canaries and acts: a breach rolls back at once,
alerts through the sinks and stores the alert; a pass with nothing to do changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from agentdeck.core.deploy.canary import CanaryState
from agentdeck.monitor.alert_sinks import InMemoryAlertSink
from agentdeck.server.canary_loop import CanaryLoop
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from canary_support import WORLD, scripted_turn, setup


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def test_the_loop_rolls_a_breaching_canary_back_and_alerts(store: SqlStore) -> None:
    plan = {"plan": [{"share": 50, "min_runs": 1000}, {"share": 100}], "min_runs_per_arm": 10}
    canaries = setup(store, {1: 0.0, 2: 0.6}, seed=3, canary=plan)
    c = canaries.start("bot@2", "production", 50, "alice")
    sink = InMemoryAlertSink()
    loop = CanaryLoop(canaries, interval=3600, sinks={"memory": sink},
                      clock=lambda: c.started_at + timedelta(minutes=1))  # fmt: skip
    assert [a.action for a in loop.judge_once()] == [None]  # no runs yet: hold
    assert WORLD.resolver is not None
    for i in range(200):
        with sdk.run("bot@production", input={}, session_id=f"s{i}"):
            scripted_turn(f"A-{i}")
    assert sdk.flush(30)
    acts = loop.judge_once()
    assert [a.action for a in acts] == ["rollback"]
    assert store.get_canary(c.id).state is CanaryState.ROLLED_BACK  # type: ignore[union-attr]
    assert [a.rule for a in sink.sent] == ["canary.rollback"]
    assert sink.sent[0].severity == "critical" and "tool_error" in sink.sent[0].message
    assert store.get_alert(sink.sent[0].id) is not None
    assert loop.judge_once() == []  # nothing active any more
