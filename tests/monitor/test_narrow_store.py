"""Monitoring services take the narrow store protocols they use, and those are enough."""

from __future__ import annotations

from monitor_support import store_runs

from agentdeck.evals.online import OnlineEvaluation, score_summary
from agentdeck.monitor.alerts import observe, set_alert_status
from agentdeck.monitor.checks import RunChecker, check_trace, on_runs_stored
from agentdeck.monitor.profiles import RunSelection, build_stored_profile
from agentdeck.store import SqlStore
from narrow_store import is_narrower_than_store, narrow, store_annotation


def test_signatures_name_protocols_narrower_than_store() -> None:
    for func in (
        RunChecker.__init__, check_trace, on_runs_stored, build_stored_profile, observe,
        set_alert_status, score_summary, OnlineEvaluation.score_run,
    ):  # fmt: skip
        assert is_narrower_than_store(store_annotation(func)), func.__qualname__


def test_run_checks_and_profiles_run_on_their_narrow_protocols(store: SqlStore) -> None:
    runs = store_runs(store, 12, 5, 10**18)
    name = runs[0].agent_name
    assert name is not None
    assert len(store.runs_without_summary(name, "production", None, None)) == len(runs)
    assert is_narrower_than_store(store_annotation(on_runs_stored))
    checks = narrow(store, store_annotation(on_runs_stored))
    on_runs_stored(checks, [r.trace_id for r in runs[1:]])
    one = check_trace(checks, runs[0].trace_id[:12])
    assert one.run.trace_id == runs[0].trace_id
    assert store.runs_without_summary(name, "production", None, None) == []
    assert is_narrower_than_store(store_annotation(build_stored_profile))
    profiles = narrow(store, store_annotation(build_stored_profile))
    profile = build_stored_profile(profiles, RunSelection(name, None, "production", None, None))
    assert profile.n_runs == len(runs)
