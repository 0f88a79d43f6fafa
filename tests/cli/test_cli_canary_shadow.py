"""``agentdeck canary status`` of a shadow shows its pairs and divergences."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import Cli
from shadow_support import identical, loop, setup, traffic


@pytest.fixture(autouse=True)
def _sdk_off() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=10)


def test_canary_status_shows_the_shadow_pairs(cli: Cli, seeded: SqlStore) -> None:
    canaries, _ = setup(seeded, identical(), policy=False)
    canaries.start("support-bot@2", "production", 10, "alice", shadow=True)
    traffic(4, seed=5)
    assert loop(canaries, 0)[0].shadow_once() == 4
    sdk.shutdown(timeout=10)

    text = cli("canary", "status", "support-bot", "--env", "production")
    assert text.code == 0, text.err
    assert "shadow support-bot@2 vs @1" in text.out
    assert "shadow: 4 pairs" in text.out and "0 diverged" in text.out
    body = json.loads(cli("canary", "status", "support-bot", "--env", "production", "--json").out)
    assert body["judgement"]["shadow"] == {"pairs": 4, "divergences": 0}
