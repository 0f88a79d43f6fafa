"""Baselines, summaries and window checks on the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from monitor_support import HOUR_NS, store_runs, timed_runs
from synthetic_runs import Scenario, generate_run

from agentdeck.core.behaviour.profile import RunView, build_profile
from agentdeck.core.errors import ConflictError, InputError, UnresolvedReferenceError
from agentdeck.core.timeparse import parse_duration
from agentdeck.monitor.profiles import (
    EVAL_RUN_ATTRIBUTE,
    create_baseline,
    load_baseline,
    select_runs,
)
from agentdeck.monitor.summary import summary_text, view_from_summary
from agentdeck.monitor.window import check_window
from agentdeck.store import SqlStore

T0 = 1_700_000_000 * 10**9  # 2023-11-14


def _dt(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


def test_profile_from_summaries_equals_profile_from_spans() -> None:
    r = random.Random(3)
    views = [RunView.from_run(*generate_run(r, Scenario(rerank_share=0.2))) for _ in range(300)]
    direct = build_profile(views).to_dict()
    again = build_profile(view_from_summary(summary_text(v)) for v in views).to_dict()
    assert again == direct


def test_baseline_create_and_show_round_trip(store: SqlStore) -> None:
    runs = store_runs(store, 120, 1, T0)
    store_runs(store, 30, 2, T0 + 2 * HOUR_NS)  # outside the range
    sel = select_runs(store, "support-bot", "production", _dt(T0), _dt(T0 + HOUR_NS))
    rec, profile = create_baseline(store, "bot-v1", sel, "tester")
    assert rec.n_runs == profile.n_runs == 120
    loaded_rec, loaded = load_baseline(store, "bot-v1")
    assert loaded_rec.selection == rec.selection and "env=production" in rec.selection
    spans = {r.trace_id: store.get_spans(r.trace_id) for r in runs}
    expected = build_profile(RunView.from_run(r, spans[r.trace_id]) for r in runs)
    assert loaded.to_dict() == expected.to_dict()
    assert [b.name for b in store.list_baselines("support-bot")] == ["bot-v1"]
    assert store.latest_baseline("support-bot", "production").name == "bot-v1"  # type: ignore[union-attr]
    with pytest.raises(ConflictError, match="bot-v1"):
        create_baseline(store, "bot-v1", sel, "tester")


def test_baseline_from_an_eval_run_selects_by_attribute(store: SqlStore) -> None:
    store_runs(store, 40, 1, T0, attributes={EVAL_RUN_ATTRIBUTE: "ev-7"})
    store_runs(store, 25, 2, T0, attributes={EVAL_RUN_ATTRIBUTE: "ev-8"})
    sel = select_runs(store, "support-bot", eval_run="ev-7")
    rec, _ = create_baseline(store, "from-eval", sel, "tester")
    assert rec.n_runs == 40
    with pytest.raises(UnresolvedReferenceError, match=r"eval\.run_id=nope"):
        select_runs(store, "support-bot", eval_run="nope")


def test_baseline_with_no_runs_is_refused_and_not_stored(store: SqlStore) -> None:
    sel = select_runs(store, "support-bot", "production", _dt(T0), _dt(T0 + HOUR_NS))
    with pytest.raises(InputError, match="no finished runs"):
        create_baseline(store, "empty", sel, "tester")
    assert store.get_baseline("empty") is None


def test_window_check_names_the_drifted_tool(store: SqlStore) -> None:
    store_runs(store, 500, 1, T0, spacing_ns=10**9)
    sel = select_runs(store, "support-bot", "production", _dt(T0), _dt(T0 + HOUR_NS))
    create_baseline(store, "base", sel, "tester")
    now = T0 + 3 * HOUR_NS
    store_runs(
        store, 500, 2, now - HOUR_NS, spacing_ns=6 * 10**9, scenario=Scenario(tool_switch_share=0.3)
    )
    wc = check_window(store, "support-bot", "production", timedelta(hours=1), now=_dt(now))
    assert wc.baseline == "base" and wc.report.window_runs == 500
    item = wc.report.item("tool_selection")
    assert item is not None and item.drifted and "search_web" in item.explanation
    assert wc.report.items[0].drifted  # most changed first


def test_window_check_reads_stored_summaries_not_spans(store: SqlStore) -> None:
    runs, spans = timed_runs(50, 4, T0)
    store.write_batch(runs, spans)
    sel = select_runs(store, "support-bot", None, _dt(T0), _dt(T0 + HOUR_NS))
    assert store.runs_without_summary("support-bot", None, None, None) != []
    create_baseline(store, "b", sel, "tester")  # back-fills the summaries once
    assert store.runs_without_summary("support-bot", None, None, None) == []
    assert len(list(store.iter_run_summaries("support-bot", None, None, None))) == 50


def test_parse_duration_rejects_garbage_naming_the_option() -> None:
    assert parse_duration("90s") == timedelta(seconds=90)
    with pytest.raises(InputError, match="--window"):
        parse_duration("soon")
