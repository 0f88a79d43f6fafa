from __future__ import annotations

import json
import math

import numpy as np
import pytest
from behaviour_factory import llm, policy, simple_view, tool, view

from agentdeck.core.behaviour.profile import (
    END,
    START,
    BehaviourProfile,
    ProfileSettings,
    build_profile,
    pair_key,
)
from agentdeck.core.behaviour.run_view import unordered_key, value_key
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import SpanStatus


def test_run_view_orders_tool_calls_by_seq_and_links_policy_to_tool() -> None:
    t1 = tool("search", {"q": "a"}, {"hits": []}, seq=3, span_id="00000000000000aa")
    t0 = tool("lookup", {"id": 1}, {"name": "x"}, seq=1, valid=False)
    spans = [t1, llm(seq=0, tokens=120), t0, policy("deny", "00000000000000aa", seq=2)]
    v = view(spans)
    assert v.actions == ("lookup", "search")
    assert v.tool_calls[0].args_valid is False
    assert v.policy[0].effect == "deny" and v.policy[0].tool == "search"
    assert v.tokens == 120
    assert v.llm_calls[0].response_model == "gpt-4o-2024-08-06"
    assert v.latency_ms == pytest.approx(2000.0)
    assert v.context.tool_response_bytes == (len('{"name":"x"}'), len('{"hits":[]}'))


def test_run_view_completion_and_error_flags() -> None:
    assert simple_view(["lookup"]).completed
    assert not simple_view(["lookup"], output=None).completed
    failed = simple_view(["lookup"], status=SpanStatus.ERROR)
    assert failed.errored and not failed.completed


def test_value_keys_ignore_dict_order_and_unordered_keys_ignore_list_order() -> None:
    assert value_key({"a": 1, "b": [1, 2]}) == value_key({"b": [1, 2], "a": 1})
    assert value_key([1, 2]) != value_key([2, 1])
    assert unordered_key({"r": [{"id": 1}, {"id": 2}]}) == unordered_key(
        {"r": [{"id": 2}, {"id": 1}]}
    )


def _profile(n: int = 40, **kw: object) -> BehaviourProfile:
    views = [simple_view(["lookup", "search"]) for _ in range(n // 2)]
    views += [simple_view(["search"]) for _ in range(n - n // 2)]
    return build_profile(views, ProfileSettings(**kw))  # type: ignore[arg-type]


def test_profile_counts_selection_transitions_steps_and_rates() -> None:
    p = _profile(40)
    assert p.n_runs == 40
    assert p.tool_frequencies() == {"lookup": 20 / 60, "search": 40 / 60}
    assert p.tool_by_step[0] == {"lookup": 20, "search": 20}
    assert p.transitions.counts[pair_key(START, "lookup")] == 20
    assert p.transitions.counts[pair_key("search", END)] == 40
    assert p.steps_histogram == {1: 20, 2: 20}
    assert p.steps_range == (1, 2)
    assert p.validity_rate() == 1.0 and p.completion_rate == 1.0 and p.error_rate == 0.0
    assert p.numeric["steps"].quantiles([0.5])[0.5] == 1.5
    assert p.response_counts == {"lookup": 20, "search": 40}
    assert "hits" in p.response_schemas["search"]["properties"]


def test_clustered_moments_record_within_run_co_occurrence() -> None:
    p = build_profile([simple_view(["search", "search", "lookup"]), simple_view(["search"])])
    tc = p.tool_calls
    assert tc.counts == {"lookup": 1, "search": 3}
    assert tc.sumsq["search"] == 2 * 2 + 1
    assert tc.sumxn["search"] == 2 * 3 + 1 * 1
    assert tc.cross[("lookup", "search")] == 2
    assert (tc.units, tc.total, tc.total_sq) == (2, 4, 10)


def test_transition_model_is_a_smoothed_distribution_that_scores_unseen_paths_worse() -> None:
    m = _profile(40).transition_model()
    for prev in (START, "lookup", "search", "never-seen"):
        total = sum(math.exp(m.logprob(prev, t)) for t in m.targets)
        assert total == pytest.approx(1.0)
    assert m.logprob("lookup", "unknown-tool") < 0
    assert m.score(["lookup", "search"]) < m.score(["search", "lookup"])
    assert np.allclose(
        m.scores([["search"], ["lookup", "search"]]),
        [m.score(["search"]), m.score(["lookup", "search"])],
    )


def test_reservoirs_and_sketches_stay_bounded_by_settings() -> None:
    p = _profile(300, reservoir_size=50, response_keys=5)
    assert p.numeric["steps"].count == 300
    assert len(p.numeric["steps"].sample) == 50
    assert len(p.sequence_sample) == 50
    assert len(p.response_sketches["search"].entries) <= 5


def test_bottom_k_sketches_keep_the_same_argument_keys_in_two_profiles() -> None:
    a = build_profile(
        [simple_view(["search"] * 8) for _ in range(3)], ProfileSettings(response_keys=3)
    )
    b = build_profile([simple_view(["search"] * 8)], ProfileSettings(response_keys=3))
    assert (
        a.response_sketches["search"].entries.keys() == b.response_sketches["search"].entries.keys()
    )
    assert a.response_sketches["search"].repeats == 2 * 3  # runs 2 and 3 repeat the kept keys


def test_profile_survives_a_json_round_trip() -> None:
    p = _profile(30)
    data = json.loads(json.dumps(p.to_dict()))
    again = BehaviourProfile.from_dict(data)
    assert again.to_dict() == p.to_dict()
    assert again.transition_model().score(["search"]) == pytest.approx(
        p.transition_model().score(["search"])
    )


def test_malformed_profile_error_names_the_field() -> None:
    data = _profile(4).to_dict()
    del data["transitions"]["total"]
    with pytest.raises(InputError, match="transitions"):
        BehaviourProfile.from_dict(data, source="baseline.json")
    with pytest.raises(InputError, match="format"):
        BehaviourProfile.from_dict({"format": 99})


def test_empty_profile_is_valid() -> None:
    p = build_profile([])
    assert p.n_runs == 0 and p.steps_range is None and p.sequence_threshold == math.inf
    again = BehaviourProfile.from_dict(json.loads(json.dumps(p.to_dict(), allow_nan=False)))
    assert again.n_runs == 0 and again.sequence_threshold == math.inf
