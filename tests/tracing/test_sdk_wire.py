"""The wire format: span -> dict -> span and run -> dict -> run are identities (Hypothesis)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import (
    LinkKind,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)
from agentdeck.tracing.sdk import wire

HEX = "0123456789abcdef"
ids16 = st.text(HEX, min_size=16, max_size=16)
ids32 = st.text(HEX, min_size=32, max_size=32)
json_data = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
nat = st.integers(0, 2**63 - 1)
usage = st.none() | st.builds(TokenUsage, nat, nat, nat, nat)
links = st.lists(st.builds(SpanLink, ids32, ids16, st.sampled_from(LinkKind)), max_size=3)

spans = st.builds(
    Span,
    trace_id=ids32, span_id=ids16, parent_id=st.none() | ids16, name=st.text(),
    kind=st.sampled_from(SpanKind), start_ns=nat, end_ns=nat, seq=nat,
    status=st.sampled_from(SpanStatus), error=st.none() | st.text(),
    inputs=json_data, outputs=json_data,
    attributes=st.dictionaries(st.text(), json_data, max_size=4),
    links=links.map(tuple), usage=usage,
)  # fmt: skip
runs = st.builds(
    Run,
    trace_id=ids32, agent_name=st.none() | st.text(), agent_version=st.none() | nat,
    agent_digest=st.none() | st.text(), env=st.none() | st.text(),
    deployment_id=st.none() | st.text(), start_ns=nat, end_ns=st.none() | nat,
    status=st.sampled_from(SpanStatus), error=st.none() | st.text(), input=json_data,
    output=json_data, root_span_id=st.none() | ids16,
    attributes=st.dictionaries(st.text(), json_data, max_size=4),
    tool_errors=st.integers(0, 10**6), denied_calls=st.integers(0, 10**6),
    outcome=st.none() | st.sampled_from(Outcome),
    outcome_score=st.none() | st.floats(allow_nan=False, allow_infinity=False),
    outcome_reason=st.none() | st.text(),
)  # fmt: skip


@given(spans)
def test_span_round_trips_through_dict_and_bytes(span: Span) -> None:
    assert wire.span_from_dict(wire.span_to_dict(span)) == span
    (back,) = wire.batch_from_bytes(wire.batch_to_bytes([], [span]))[1]
    assert back == span


@given(runs)
def test_run_round_trips_through_dict_and_bytes(run: Run) -> None:
    assert wire.run_from_dict(wire.run_to_dict(run)) == run
    (back,) = wire.batch_from_bytes(wire.batch_to_bytes([run], []))[0]
    assert back == run


def test_batch_errors_name_the_element_and_field() -> None:
    span = Span("a" * 32, "b" * 16, None, "s", SpanKind.TOOL, 1, 2)
    body: dict[str, Any] = wire.batch_to_dict([], [span, span])
    del body["spans"][1]["kind"]
    with pytest.raises(InputError, match=r"batch\.spans\[1\]: missing field 'kind'"):
        wire.batch_from_bytes(orjson.dumps(body))
    with pytest.raises(InputError, match="not valid JSON"):
        wire.batch_from_bytes(b"{nope")
    with pytest.raises(InputError, match=r"batch\.v"):
        wire.batch_from_dict({"v": 99})


def test_to_json_data_snapshots_any_value() -> None:
    big = 2**70
    assert wire.to_json_data({"n": big, 1: (1, 2), "s": {"b"}}) == {
        "n": str(big),
        "1": [1, 2],
        "s": ["b"],
    }
    src = {"a": 1}
    snap = wire.to_json_data(src)
    src["a"] = 2
    assert snap == {"a": 1}


def test_to_json_data_copies_short_lists_of_scalars_in_flat_dicts() -> None:
    tags = ["a", "b"]
    src = {"tags": tags, "n": 1}
    for owned in (False, True):
        snap = wire.to_json_data(src, owned=owned)
        assert snap == {"tags": ["a", "b"], "n": 1}
        assert snap["tags"] is not tags  # a later change by the caller is not recorded
    tags.append("c")
    assert wire.to_json_data({"t": (1, 2), "l": [1, {"x": 2}]}) == {"t": [1, 2], "l": [1, {"x": 2}]}
