"""The project's label schema: the labels reviewers choose from and the scores they give.

A schema file (YAML, conventionally ``labels.yaml``)::

    labels:                      # at most 9: the review page's keys 1-9 choose them, in order
      - {name: correct, pass: true, description: Did what the user asked}
      - {name: wrong_tool, pass: false}
      - {name: unclear}          # no pass: says nothing about the outcome
    scores:
      - {name: helpfulness, min: 1, max: 5}

A label's ``pass`` says whether a run so labelled succeeded: it becomes the run's outcome
(through feedback) and counts in the ``labels`` gate's pass rate. Errors are one line naming
the file and the field; an unknown key names the nearest known spelling.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentdeck.core.errors import SpecError

MAX_LABELS = 9
_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")
_TOP = ("name", "description", "labels", "scores")
_LABEL_KEYS = ("name", "pass", "description")
_SCORE_KEYS = ("name", "min", "max", "description")


@dataclass(frozen=True)
class LabelDef:
    name: str
    passed: bool | None = None  # ``pass`` in the file
    description: str = ""


@dataclass(frozen=True)
class ScoreDef:
    name: str
    min: float = 0.0
    max: float = 1.0
    description: str = ""


@dataclass(frozen=True)
class LabelSchema:
    labels: tuple[LabelDef, ...]
    scores: tuple[ScoreDef, ...] = ()
    name: str = "labels"
    description: str = ""

    def label(self, name: str) -> LabelDef | None:
        return next((lb for lb in self.labels if lb.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """The schema as its file says it (parse_label_schema reads it back)."""
        labels: list[dict[str, Any]] = []
        for lb in self.labels:
            d: dict[str, Any] = {"name": lb.name}
            if lb.passed is not None:
                d["pass"] = lb.passed
            if lb.description:
                d["description"] = lb.description
            labels.append(d)
        scores: list[dict[str, Any]] = []
        for sc in self.scores:
            s: dict[str, Any] = {"name": sc.name, "min": sc.min, "max": sc.max}
            if sc.description:
                s["description"] = sc.description
            scores.append(s)
        out: dict[str, Any] = {"name": self.name, "labels": labels, "scores": scores}
        if self.description:
            out["description"] = self.description
        return out


def nearest(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known``, or a list of them."""
    options = list(known)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.5)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; expected one of {', '.join(options)}" if options else ""


def _keys(raw: Mapping[str, Any], allowed: tuple[str, ...], source: str, where: str) -> None:
    for key in raw:
        if key not in allowed:
            at = f"{where}.{key}" if where else str(key)
            raise SpecError(source, at, f"unknown key{nearest(str(key), allowed)}")


def _text(raw: Any, source: str, where: str) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        raise SpecError(source, where, f"expected text, got {type(raw).__name__}")
    return raw


def _name(raw: Any, source: str, where: str) -> str:
    if not isinstance(raw, str) or not _NAME.match(raw):
        raise SpecError(
            source, where, f"expected a name of 1-100 letters, digits, _ . : -, got {raw!r}"
        )
    return raw


def _number(raw: Any, source: str, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise SpecError(source, where, f"expected a number, got {raw!r}")
    return float(raw)


def _entries(data: Mapping[str, Any], key: str, source: str) -> list[Mapping[str, Any]]:
    raw = data.get(key) or []
    if not isinstance(raw, list):
        raise SpecError(source, key, "expected a list")
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise SpecError(source, f"{key}[{i}]", "expected a mapping with a name")
    return raw


def parse_label_schema(data: Any, source: str) -> LabelSchema:
    """Validate a label schema file's content; :class:`SpecError` names the file and field."""
    if not isinstance(data, Mapping):
        raise SpecError(source, None, "a label schema is a mapping with labels (and scores)")
    _keys(data, _TOP, source, "")
    labels: list[LabelDef] = []
    for i, raw in enumerate(_entries(data, "labels", source)):
        where = f"labels[{i}]"
        _keys(raw, _LABEL_KEYS, source, where)
        name = _name(raw.get("name"), source, f"{where}.name")
        passed = raw.get("pass")
        if passed is not None and not isinstance(passed, bool):
            raise SpecError(source, f"{where}.pass", f"expected true or false, got {passed!r}")
        if any(lb.name == name for lb in labels):
            raise SpecError(source, f"{where}.name", f"duplicate label {name!r}")
        labels.append(LabelDef(name, passed, _text(raw.get("description"), source, where)))
    if not labels:
        raise SpecError(source, "labels", "at least one label is required")
    if len(labels) > MAX_LABELS:
        raise SpecError(source, "labels", f"at most {MAX_LABELS} labels (the keys 1-9)")
    scores: list[ScoreDef] = []
    for i, raw in enumerate(_entries(data, "scores", source)):
        where = f"scores[{i}]"
        _keys(raw, _SCORE_KEYS, source, where)
        name = _name(raw.get("name"), source, f"{where}.name")
        lo = _number(raw.get("min", 0), source, f"{where}.min")
        hi = _number(raw.get("max", 1), source, f"{where}.max")
        if lo >= hi:
            raise SpecError(source, f"{where}.max", f"must be above min ({lo:g}), got {hi:g}")
        if any(s.name == name for s in scores):
            raise SpecError(source, f"{where}.name", f"duplicate score {name!r}")
        scores.append(ScoreDef(name, lo, hi, _text(raw.get("description"), source, where)))
    return LabelSchema(
        labels=tuple(labels),
        scores=tuple(scores),
        name=_name(data.get("name", "labels"), source, "name"),
        description=_text(data.get("description"), source, "description"),
    )


def check_label(
    schema: LabelSchema, label: str, scores: Mapping[str, Any], where: str
) -> dict[str, float]:
    """The label and scores a reviewer gave, checked against ``schema`` (``where`` prefixes the
    field in errors: ``body.`` or ``--``); returns the scores as numbers."""
    from agentdeck.core.errors import InputError

    if schema.label(label) is None:
        names = [lb.name for lb in schema.labels]
        raise InputError(f"{where}label: unknown label {label!r}{nearest(label, names)}")
    out: dict[str, float] = {}
    for key, value in scores.items():
        at = f"--score {key}" if where == "--" else f"{where}scores.{key}"
        sd = next((s for s in schema.scores if s.name == key), None)
        if sd is None:
            names = [s.name for s in schema.scores]
            raise InputError(f"{at}: unknown score{nearest(key, names)}")
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise InputError(f"{at}: expected a number, got {value!r}") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise InputError(f"{at}: expected a number, got {value!r}")
        if not sd.min <= value <= sd.max:
            raise InputError(f"{at}: expected {sd.min:g}..{sd.max:g}, got {value:g}")
        out[key] = float(value)
    return out
