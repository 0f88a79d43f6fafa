"""Runs imported without timestamps (``agentdeck.timing = unknown``) are left out of latency
statistics (run latency, latency per tool); runs imported with their times count as live ones."""

from __future__ import annotations

from pathlib import Path

import agentdeck
from agentdeck.monitor.profiles import RunSelection, build_stored_profile
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from conversation_support import refund_conversation, register_example


def test_latency_statistics_skip_runs_of_unknown_timing(tmp_path: Path, store: SqlStore) -> None:
    register_example(store)
    agentdeck.init(sink=store, resolver=CachingResolver(Registry(store)), on_full="block",
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip
    try:
        for _ in range(3):
            assert agentdeck.record_conversation(refund_conversation(), agent="support-bot@1")
        for _ in range(4):
            got = agentdeck.record_conversation(
                refund_conversation(stamps=False), agent="support-bot@1"
            )
            assert got is not None and got.timing == "unknown"
        assert agentdeck.flush(10)
    finally:
        sdk.shutdown(timeout=5)
    profile = build_stored_profile(store, RunSelection("support-bot"))
    assert profile.n_runs == 7
    assert profile.numeric["latency_ms"].count == 3  # only the runs with their own times
    assert profile.numeric["latency_ms"].minimum == 8000.0
    lookup = profile.tool_latency_ms["lookup_order"]
    assert (lookup.count, lookup.minimum, lookup.maximum) == (3, 1000.0, 1000.0)
    assert profile.numeric["steps"].count == 7  # everything else counts every run
