"""The label schema file: labels (at most 9, for the keys 1-9) with an optional pass, scores
with a range; one-line errors naming the file and field, an unknown key with its nearest
spelling; labels and scores a reviewer gives are checked against it."""

from __future__ import annotations

import pytest

from agentdeck.core.annotations.schema import check_label, parse_label_schema
from agentdeck.core.errors import InputError, SpecError

GOOD = {
    "labels": [{"name": "correct", "pass": True}, {"name": "wrong_tool", "pass": False},
               {"name": "unclear", "description": "can't tell"}],
    "scores": [{"name": "helpfulness", "min": 1, "max": 5}],
}  # fmt: skip


def test_a_schema_round_trips_through_its_dict() -> None:
    schema = parse_label_schema(GOOD, "labels.yaml")
    assert [lb.name for lb in schema.labels] == ["correct", "wrong_tool", "unclear"]
    assert [lb.passed for lb in schema.labels] == [True, False, None]
    assert parse_label_schema(schema.to_dict(), "x") == schema


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": []}, "labels.yaml: label: unknown key; did you mean 'labels'?"),
        ({"labels": [{"name": "ok", "pas": True}]},
         "labels.yaml: labels[0].pas: unknown key; did you mean 'pass'?"),
        ({"labels": [{"name": "ok"}], "scores": [{"name": "h", "mx": 3}]},
         "labels.yaml: scores[0].mx: unknown key; did you mean 'max'?"),
        ({"labels": [{"name": "ok", "pass": "yes"}]},
         "labels.yaml: labels[0].pass: expected true or false, got 'yes'"),
        ({"labels": [{"name": "ok"}, {"name": "ok"}]},
         "labels.yaml: labels[1].name: duplicate label 'ok'"),
        ({"labels": [{"name": f"l{i}"} for i in range(10)]},
         "labels.yaml: labels: at most 9 labels (the keys 1-9)"),
        ({"labels": []}, "labels.yaml: labels: at least one label is required"),
        ({"labels": [{"name": "ok"}], "scores": [{"name": "h", "min": 5, "max": 1}]},
         "labels.yaml: scores[0].max: must be above min (5), got 1"),
        ({"labels": [{"name": "a b"}]}, "labels.yaml: labels[0].name: expected a name"),
        (["correct"], "labels.yaml: a label schema is a mapping"),
    ],
)  # fmt: skip
def test_bad_schemas_are_one_line_errors_naming_the_field(data: object, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_label_schema(data, "labels.yaml")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_given_labels_and_scores_are_checked() -> None:
    schema = parse_label_schema(GOOD, "labels.yaml")
    assert check_label(schema, "correct", {"helpfulness": "4"}, "--") == {"helpfulness": 4.0}
    with pytest.raises(
        InputError, match=r"^--label: unknown label 'corect'; did you mean 'correct'\?"
    ):
        check_label(schema, "corect", {}, "--")
    with pytest.raises(InputError, match=r"^body.scores.helpfulnes: unknown score; did you mean"):
        check_label(schema, "correct", {"helpfulnes": 3}, "body.")
    with pytest.raises(InputError, match=r"^--score helpfulness: expected 1..5, got 7"):
        check_label(schema, "correct", {"helpfulness": 7}, "--")
    with pytest.raises(InputError, match=r"expected a number, got 'high'"):
        check_label(schema, "correct", {"helpfulness": "high"}, "--")
