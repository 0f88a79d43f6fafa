"""Known-answer tests of window drift on synthetic runs (tests/monitor/synthetic_runs.py)."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic_runs import Scenario, generate_views

from agentdeck.core.behaviour.profile import (
    BehaviourProfile,
    ProfileSettings,
    RunView,
    build_profile,
)
from agentdeck.core.errors import InputError
from agentdeck.monitor.drift import DriftCategory, DriftReport, DriftSettings, compare
from agentdeck.monitor.stats import adjust_pvalues, two_proportions

RUNS = 500


@pytest.fixture(scope="module")
def pool() -> list[RunView]:
    """Runs from one unchanged distribution; disjoint slices are independent samples."""
    return generate_views(4000, seed=7)


@pytest.fixture(scope="module")
def baseline(pool: list[RunView]) -> BehaviourProfile:
    return build_profile(pool[:RUNS])


def _window(scenario: Scenario, seed: int = 11) -> BehaviourProfile:
    return build_profile(generate_views(RUNS, seed=seed, scenario=scenario))


def _drifted(report: DriftReport) -> dict[str, DriftCategory]:
    return {i.metric: i.category for i in report.drifted}


def test_tool_choice_changed_in_ten_percent_of_runs_is_detected(baseline: BehaviourProfile) -> None:
    report = compare(baseline, _window(Scenario(tool_switch_share=0.10)))
    drifted = _drifted(report)
    assert drifted.get("tool_selection") is DriftCategory.BEHAVIOUR
    item = report.item("tool_selection")
    assert item is not None and item.adjusted_p is not None and item.adjusted_p < 0.01
    assert "search_web" in item.explanation  # names the tool that appeared
    assert set(drifted) <= {"tool_selection", "transitions", "sequence_anomaly_rate"}


def test_drifted_items_come_first_most_changed_first(baseline: BehaviourProfile) -> None:
    report = compare(baseline, _window(Scenario(tool_switch_share=0.10)))
    flags = [i.drifted for i in report.items]
    assert flags == sorted(flags, reverse=True)
    scores = [i.score for i in report.drifted]
    assert scores == sorted(scores, reverse=True)
    assert report.n_tests == sum(i.p_value is not None for i in report.items)


def test_two_samples_of_one_distribution_raise_no_drift_in_95_of_100_seeds(
    pool: list[RunView],
) -> None:
    """Measures the false-positive rate of a whole report (Holm, alpha 0.01, min effects).

    300 runs a side keep the test fast; docs/monitoring.md reports 500 a side too.
    """
    n = 300
    false_alarms = 0
    for seed in range(100):
        idx = np.random.default_rng(seed).permutation(len(pool))
        a = build_profile([pool[i] for i in idx[:n]])
        b = build_profile([pool[i] for i in idx[n : 2 * n]])
        false_alarms += bool(compare(a, b).drifted)
    assert false_alarms <= 5


def test_renamed_response_field_is_tool_api_drift_naming_tool_and_field(
    baseline: BehaviourProfile,
) -> None:
    report = compare(baseline, _window(Scenario(renamed_field=("get_order", "status", "state"))))
    item = report.item("response_schema[get_order]")
    assert item is not None and item.drifted and item.category is DriftCategory.TOOL_API
    assert "'get_order'" in item.explanation
    assert "missing required field order.status" in item.explanation
    assert "new field order.state" in item.explanation
    assert not [i for i in report.drifted if i.category is DriftCategory.TOOL_API and i is not item]


def test_longer_inputs_are_context_drift(baseline: BehaviourProfile) -> None:
    report = compare(baseline, _window(Scenario(input_scale=1.6)))
    drifted = _drifted(report)
    assert drifted.get("input_chars") is DriftCategory.CONTEXT
    item = report.item("input_chars")
    assert item is not None and item.details["window_median"] > item.details["baseline_median"]
    assert "tool_selection" not in drifted


def test_another_input_language_is_context_drift(baseline: BehaviourProfile) -> None:
    report = compare(baseline, _window(Scenario(foreign_share=0.2)))
    drifted = _drifted(report)
    assert drifted.get("input_script") is DriftCategory.CONTEXT
    assert drifted.get("input_words") is DriftCategory.CONTEXT
    item = report.item("input_script")
    assert item is not None and "cyrillic" in item.explanation


def test_reranked_search_results_are_response_drift_and_say_only_order_changed(
    baseline: BehaviourProfile,
) -> None:
    report = compare(baseline, _window(Scenario(rerank_share=0.3)))
    item = report.item("response_change[search_kb]")
    assert item is not None and item.drifted and item.category is DriftCategory.RESPONSE
    assert item.details["reordered_share"] == 1.0
    assert "only in list order" in item.explanation
    assert "response_schema[search_kb]" not in _drifted(report)


def test_minimum_effect_size_stops_significant_trivia(baseline: BehaviourProfile) -> None:
    window = _window(Scenario(tool_switch_share=0.10))
    strict = compare(baseline, window, DriftSettings(min_jsd=0.5, min_cohen_h=5.0))
    item = strict.item("tool_selection")
    assert item is not None and item.adjusted_p is not None and item.adjusted_p < 0.01
    assert not item.drifted


def test_small_windows_skip_tests_and_say_why(baseline: BehaviourProfile) -> None:
    report = compare(baseline, build_profile(generate_views(10, seed=3)))
    assert any(s.startswith("tool_selection: too few samples") for s in report.skipped)
    assert report.item("tool_selection") is None


def test_profiles_with_different_bag_of_words_sizes_are_refused(baseline: BehaviourProfile) -> None:
    other = build_profile([], ProfileSettings(bow_buckets=16))
    with pytest.raises(InputError, match="bow_buckets"):
        compare(baseline, other)


def test_report_round_trips_through_its_dict_form(baseline: BehaviourProfile) -> None:
    data = compare(baseline, _window(Scenario(tool_switch_share=0.1))).to_dict()
    assert data["correction"] == "holm"
    assert data["items"][0]["drifted"] is True


def test_holm_and_bh_adjustments() -> None:
    p = [0.01, 0.04, 0.03, 0.5]
    assert np.allclose(adjust_pvalues(p, "holm"), [0.04, 0.09, 0.09, 0.5])
    assert np.allclose(adjust_pvalues(p, "bh"), [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_two_proportions_uses_exact_test_for_rare_events() -> None:
    common = two_proportions(300, 1000, 360, 1000)
    assert common.p_value == pytest.approx(0.0043, abs=5e-4)
    rare = two_proportions(1, 400, 9, 400)
    assert 0.01 < rare.p_value < 0.03  # Fisher: 0.021; the z test would say 0.011
