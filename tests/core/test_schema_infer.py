from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from agentdeck.core.behaviour.schema_infer import (
    ChangeKind,
    FieldChange,
    SchemaAccumulator,
    flatten_schema,
    infer_schema,
    parent_path,
    schema_diff,
)

ORDER = {"order": {"id": "o1", "status": "shipped", "items": [{"sku": "a", "qty": 1}]}}


def _changes(old: list[Any], new: list[Any]) -> set[tuple[str, ChangeKind]]:
    return {(c.path, c.change) for c in schema_diff(infer_schema(old), infer_schema(new))}


def test_inferred_schema_has_types_and_required_fields_without_schema_marker() -> None:
    schema = infer_schema([ORDER, {"order": {"id": "o2", "status": "x", "items": []}}])
    assert "$schema" not in schema
    flat = flatten_schema(schema)
    assert flat["order.id"].types == {"string"}
    assert flat["order.items[].qty"].types == {"integer"}
    assert flat["order.status"].required


def test_renamed_nested_field_is_missing_plus_new() -> None:
    renamed = {"order": {"id": "o1", "state": "shipped", "items": [{"sku": "a", "qty": 1}]}}
    assert _changes([ORDER], [renamed]) == {
        ("order.status", ChangeKind.MISSING),
        ("order.state", ChangeKind.NEW),
    }


def test_field_inside_array_of_objects_is_diffed_with_item_path() -> None:
    new = {"order": {"id": "o1", "status": "s", "items": [{"sku": "a", "qty": "1", "gift": True}]}}
    changes = {c.path: c for c in schema_diff(infer_schema([ORDER]), infer_schema([new]))}
    assert changes["order.items[].qty"].change is ChangeKind.RETYPED
    assert changes["order.items[].qty"].old_types == ("integer",)
    assert changes["order.items[].qty"].new_types == ("string",)
    assert changes["order.items[].gift"].change is ChangeKind.NEW


def test_only_the_topmost_change_of_a_renamed_subtree_is_reported() -> None:
    renamed = {"purchase": ORDER["order"]}
    assert _changes([ORDER], [renamed]) == {
        ("order", ChangeKind.MISSING),
        ("purchase", ChangeKind.NEW),
    }


def test_nullable_field_counts_as_retyped_and_required_flag_is_kept() -> None:
    changes = schema_diff(infer_schema([{"a": 1}]), infer_schema([{"a": None}, {"a": 2}]))
    assert changes == [
        FieldChange("a", ChangeKind.RETYPED, ("integer",), ("integer", "null"), True)
    ]


def test_root_type_change_and_empty_schemas() -> None:
    assert _changes([{"a": 1}], [[1, 2]]) == {("", ChangeKind.RETYPED)}
    assert schema_diff({}, infer_schema([ORDER])) == []
    assert flatten_schema({}) == {}


def test_optional_field_missing_is_marked_not_required() -> None:
    (change,) = schema_diff(infer_schema([{"a": 1, "b": 1}, {"a": 1}]), infer_schema([{"a": 2}]))
    assert change.change is ChangeKind.MISSING and change.path == "b" and not change.was_required
    assert "missing field b" in change.describe()


def test_accumulator_resumes_from_a_stored_schema() -> None:
    acc = SchemaAccumulator()
    acc.add({"a": 1})
    resumed = SchemaAccumulator.from_schema(acc.schema(), acc.count)
    resumed.add({"a": 1, "b": "x"})
    assert resumed.count == 2
    assert flatten_schema(resumed.schema())["b"].required is False


def test_parent_path() -> None:
    assert parent_path("a.b[].c") == "a.b[]"
    assert parent_path("a.b[]") == "a.b"
    assert parent_path("a") == ""
    assert parent_path("") is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda kids: (
        st.lists(kids, max_size=3)
        | st.dictionaries(st.text("abc", min_size=1, max_size=3), kids, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_json, min_size=1, max_size=4))
def test_a_schema_never_differs_from_itself_or_from_its_own_samples(samples: list[Any]) -> None:
    schema = infer_schema(samples)
    assert schema_diff(schema, schema) == []
    # adding samples that were already seen changes nothing
    assert schema_diff(schema, infer_schema(samples + samples[:1])) == []


def test_object_keyed_by_ids_is_a_map_with_one_value_schema() -> None:
    from agentdeck.core.behaviour.schema_infer import MAX_PRESENCE_PATHS, FieldPresence

    a = {"payment_methods": {"credit_card_123": {"source": "credit_card", "last_four": "1"}}}
    b = {"payment_methods": {"gift_card_456": {"source": "gift_card", "amount": 5}}}
    schema = infer_schema([a, b])
    flat = flatten_schema(schema)
    assert "payment_methods.credit_card_123" not in flat
    assert flat["payment_methods{}.source"].types == {"string"}
    assert parent_path("payment_methods{}.source") == "payment_methods{}"
    assert parent_path("payment_methods{}") == "payment_methods"
    assert schema_diff(infer_schema([a]), infer_schema([b])) == [
        FieldChange("payment_methods{}.amount", ChangeKind.NEW, (), ("integer",)),
        FieldChange("payment_methods{}.last_four", ChangeKind.MISSING, ("string",), (), True),
    ]
    # named fields stay fields, and ids are never paths of the presence counts
    assert "order.status" in flatten_schema(infer_schema([ORDER]))
    presence = FieldPresence()
    for i in range(MAX_PRESENCE_PATHS * 2):
        presence.add({f"k{i}": 1, "m": {f"id_{i:05d}": {"x": 1}}})
    assert presence.count("m{}.x") == MAX_PRESENCE_PATHS * 2
    assert len(presence.paths) == MAX_PRESENCE_PATHS and presence.overflow > 0
