"""``capture``: a value as it is now, read back later as the JSON data ``to_json_data`` gives."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentdeck.tracing.sdk.wire import Frozen, capture, capture_map, to_json_data

json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text() | st.integers(), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip


def _scramble(value: Any) -> None:
    """Change every container inside ``value`` in place."""
    if isinstance(value, dict):
        for v in list(value.values()):
            _scramble(v)
        value["scrambled"] = True
    elif isinstance(value, list):
        for v in value:
            _scramble(v)
        value.append("scrambled")


@settings(deadline=None)  # a shared, loaded machine: no timing in a correctness test
@given(json_like)
def test_capture_then_read_back_is_to_json_data_even_after_mutation(value: Any) -> None:
    expected = to_json_data(copy.deepcopy(value))
    captured = capture(value)
    _scramble(value)
    assert to_json_data(captured) == expected
    assert to_json_data({"nested": captured}) == {"nested": expected}


def test_flat_dicts_are_copied_and_nested_values_serialized() -> None:
    flat = {"city": "Oslo", "days": [1, 2]}
    got = capture(flat)
    assert got == flat and got is not flat and got["days"] is not flat["days"]
    assert capture(flat, owned=True) == flat
    assert isinstance(capture({"a": {"b": 1}}), Frozen)
    assert capture("text") == "text" and capture(None) is None


def test_unusual_values_are_captured_as_data() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    assert to_json_data(capture({1: {2, 1}, "big": 2**70, "t": Thing()})) == {
        "1": [1, 2],
        "big": str(2**70),
        "t": "Thing()",
    }


def test_capture_map_captures_each_value_and_never_raises() -> None:
    class BadItems(dict[str, Any]):
        def items(self) -> Any:
            raise RuntimeError("broken mapping")

    inner = {"x": [1]}
    got = capture_map({"a": inner, "b": 2})
    inner["x"].append(2)
    assert to_json_data(got) == {"a": {"x": [1]}, "b": 2}
    assert capture_map(None) == {}
    bad = capture_map(BadItems(a=1))
    assert list(bad) == ["agentdeck.capture_error"]
    assert "RuntimeError: broken mapping" in bad["agentdeck.capture_error"]
