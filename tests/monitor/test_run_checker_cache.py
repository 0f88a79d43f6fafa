"""The run checker's baseline cache (a cachetools TTLCache): a new baseline is seen after the
TTL, not before; "no baseline" is cached too; the cache is bounded."""

from __future__ import annotations

from datetime import UTC, datetime

from monitor_support import HOUR_NS, store_runs

from agentdeck.monitor.checks import RunChecker
from agentdeck.monitor.profiles import create_baseline, select_runs
from agentdeck.store import SqlStore

T0 = 1_700_000_000 * 10**9


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 10**9, UTC)


class CountingStore:
    """The real store, counting ``latest_baseline`` reads."""

    def __init__(self, store: SqlStore) -> None:
        self.store, self.reads = store, 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)

    def latest_baseline(self, agent: str, env: str | None) -> object:
        self.reads += 1
        return self.store.latest_baseline(agent, env)


def test_a_new_baseline_is_seen_after_the_ttl_and_reads_are_cached(store: SqlStore) -> None:
    now = [0.0]
    counting = CountingStore(store)
    checker = RunChecker(counting, baseline_ttl=30.0, clock=lambda: now[0])  # type: ignore[arg-type]
    assert checker.baseline_for("support-bot", "production") is None
    assert checker.baseline_for("support-bot", "production") is None  # "none" is cached too
    assert counting.reads == 1

    store_runs(store, 40, 1, T0)
    sel = select_runs(store, "support-bot", "production", _dt(T0), _dt(T0 + HOUR_NS))
    create_baseline(store, "b1", sel, "tester")
    now[0] = 29.0
    assert checker.baseline_for("support-bot", "production") is None  # still within the TTL
    now[0] = 30.5
    profile = checker.baseline_for("support-bot", "production")
    assert profile is not None and profile.n_runs == 40
    assert counting.reads == 2
    assert checker.baseline_for("support-bot", "production") is profile
    assert counting.reads == 2


def test_the_baseline_cache_is_bounded(store: SqlStore) -> None:
    counting = CountingStore(store)
    checker = RunChecker(counting, max_baselines=2, clock=lambda: 0.0)  # type: ignore[arg-type]
    for agent in ("a", "b", "c"):
        assert checker.baseline_for(agent, None) is None
    assert counting.reads == 3
    checker.baseline_for("c", None)  # the newest is kept
    assert counting.reads == 3
    checker.baseline_for("a", None)  # the oldest was evicted
    assert counting.reads == 4
