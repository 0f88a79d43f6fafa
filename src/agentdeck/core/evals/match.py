"""Argument matchers and the tool calls a run made: the vocabulary of behavioural evals.

A matcher tests one value. In a suite file it is written as a bare value (``equals``) or as a
one-key mapping: ``{equals: v}``, ``{regex: "..."}`` (``re.search`` on the value's text),
``{range: {min: a, max: b}}`` (inclusive, numbers only), ``{schema: {...}}`` (JSON Schema) or
``{present: true|false}``. In Python (the pytest plugin) a callable is a predicate and a compiled
pattern is a regex. :class:`CallPattern` is a tool name plus matchers for some of its arguments;
extra arguments of the call are ignored. :class:`ObservedCall` is a finished tool span reduced to
what the matchers read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from agentdeck.core.errors import SpecError
from agentdeck.core.spec.schema_check import schema_errors
from agentdeck.core.trace.model import Span, SpanKind, SpanStatus
from agentdeck.core.types import JSON

MATCHER_KEYS = frozenset({"equals", "regex", "range", "schema", "present"})


def show(value: JSON, limit: int = 60) -> str:
    """A short JSON rendering of ``value`` for reasons."""
    try:
        text = orjson.dumps(value, default=str).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Matcher(Protocol):
    """Tests one argument value; ``present`` is False when the argument is absent."""

    def matches(self, value: JSON, present: bool) -> bool: ...
    def describe(self) -> str: ...


@dataclass(frozen=True)
class Equals:
    expected: JSON

    def matches(self, value: JSON, present: bool) -> bool:
        if not present:
            return False
        if isinstance(self.expected, bool) or isinstance(value, bool):
            return type(value) is type(self.expected) and value == self.expected
        return bool(value == self.expected)

    def describe(self) -> str:
        return f"= {show(self.expected)}"


@dataclass(frozen=True)
class Regex:
    pattern: re.Pattern[str]

    def matches(self, value: JSON, present: bool) -> bool:
        if not present or value is None:
            return False
        text = value if isinstance(value, str) else show(value, 10_000)
        return self.pattern.search(text) is not None

    def describe(self) -> str:
        return f"~ /{self.pattern.pattern}/"


@dataclass(frozen=True)
class Range:
    min: float | None = None
    max: float | None = None

    def matches(self, value: JSON, present: bool) -> bool:
        if not present or isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if math.isnan(value):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)

    def describe(self) -> str:
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        return f"in [{lo}, {hi}]"


@dataclass(frozen=True)
class Schema:
    schema: Mapping[str, JSON]

    def matches(self, value: JSON, present: bool) -> bool:
        return present and schema_errors(self.schema, value) is None

    def describe(self) -> str:
        return f"matches schema {show(dict(self.schema), 40)}"


@dataclass(frozen=True)
class Present:
    expected: bool = True

    def matches(self, value: JSON, present: bool) -> bool:
        return present is self.expected

    def describe(self) -> str:
        return "present" if self.expected else "absent"


@dataclass(frozen=True)
class Predicate:
    """A Python callable (pytest plugin); an exception inside it counts as no match."""

    fn: Callable[[JSON], Any]

    def matches(self, value: JSON, present: bool) -> bool:
        if not present:
            return False
        try:
            return bool(self.fn(value))
        except Exception:
            return False

    def describe(self) -> str:
        return f"satisfies {getattr(self.fn, '__name__', 'a predicate')}"


def parse_matcher(raw: JSON, source: str, where: str) -> Matcher:
    """A matcher from its suite-file form; errors name ``source`` and the field ``where``."""
    if not isinstance(raw, Mapping) or not (MATCHER_KEYS & set(raw)):
        return Equals(raw)
    if len(raw) != 1:
        raise SpecError(source, where, f"a matcher has exactly one of {sorted(MATCHER_KEYS)}")
    ((key, arg),) = raw.items()
    if key == "equals":
        return Equals(arg)
    if key == "regex":
        if not isinstance(arg, str):
            raise SpecError(source, f"{where}.regex", "must be a string")
        try:
            return Regex(re.compile(arg))
        except re.error as exc:
            raise SpecError(
                source, f"{where}.regex", f"invalid regular expression: {exc}"
            ) from None
    if key == "range":
        if not isinstance(arg, Mapping) or not arg or set(arg) - {"min", "max"}:
            raise SpecError(source, f"{where}.range", "must be a mapping with min and/or max")
        bounds: dict[str, float | None] = {}
        for k in ("min", "max"):
            v = arg.get(k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise SpecError(source, f"{where}.range.{k}", "must be a number")
            bounds[k] = None if v is None else float(v)
        if (
            bounds["min"] is not None
            and bounds["max"] is not None
            and bounds["min"] > bounds["max"]
        ):
            raise SpecError(source, f"{where}.range", "min is greater than max")
        return Range(bounds["min"], bounds["max"])
    if key == "schema":
        if not isinstance(arg, Mapping):
            raise SpecError(source, f"{where}.schema", "must be a JSON Schema object")
        return Schema(dict(arg))
    if not isinstance(arg, bool):
        raise SpecError(source, f"{where}.present", "must be true or false")
    return Present(arg)


def python_matcher(value: Any) -> Matcher:
    """A matcher from a Python value: callable -> predicate, compiled pattern -> regex, else equals."""
    if isinstance(value, re.Pattern):
        return Regex(value)
    if isinstance(value, Equals | Regex | Range | Schema | Present | Predicate):
        return value
    if callable(value):
        return Predicate(value)
    return Equals(value)


@dataclass(frozen=True)
class ObservedCall:
    """One tool call the run made, in order: its arguments and what came back."""

    tool: str
    args: Mapping[str, JSON]
    result: JSON = None
    error: str | None = None
    denied: bool = False
    args_valid: bool | None = None
    span_id: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def observed_calls(spans: Iterable[Span]) -> tuple[ObservedCall, ...]:
    """The tool spans of a run as :class:`ObservedCall` values, ordered by ``seq``."""
    out = []
    for s in sorted(spans, key=lambda x: (x.seq, x.start_ns)):
        if s.kind is not SpanKind.TOOL:
            continue
        args = s.inputs.get("args") if isinstance(s.inputs, dict) else None
        outputs = s.outputs if isinstance(s.outputs, dict) else {}
        valid = s.attributes.get("tool.args_valid")
        out.append(
            ObservedCall(
                tool=s.tool_name or s.name,
                args=dict(args) if isinstance(args, Mapping) else {},
                result=outputs.get("result"),
                error=s.error if s.status is SpanStatus.ERROR else None,
                denied=bool(s.attributes.get("tool.denied")),
                args_valid=valid if isinstance(valid, bool) else None,
                span_id=s.span_id,
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class CallPattern:
    """A tool name plus matchers for some of its arguments."""

    tool: str
    args: Mapping[str, Matcher] = field(default_factory=dict)

    def mismatches(self, call: ObservedCall) -> list[str]:
        """Why ``call`` does not match (empty when it does)."""
        if call.tool != self.tool:
            return [f"tool is {call.tool}, not {self.tool}"]
        out = []
        for name, m in self.args.items():
            present = name in call.args
            value = call.args.get(name)
            if not m.matches(value, present):
                got = show(value) if present else "absent"
                out.append(f"{name}={got} (expected {m.describe()})")
        return out

    def matches(self, call: ObservedCall) -> bool:
        return not self.mismatches(call)

    def describe(self) -> str:
        if not self.args:
            return self.tool
        parts = ", ".join(f"{k} {m.describe()}" for k, m in self.args.items())
        return f"{self.tool}({parts})"


def parse_call_pattern(raw: JSON, source: str, where: str) -> CallPattern:
    """``tool_name`` or ``{tool: name, args: {arg: matcher}}``."""
    if isinstance(raw, str):
        if not raw:
            raise SpecError(source, where, "a tool name cannot be empty")
        return CallPattern(raw)
    if not isinstance(raw, Mapping) or not isinstance(raw.get("tool"), str) or not raw["tool"]:
        raise SpecError(source, f"{where}.tool", "a tool name is required")
    args = raw.get("args") or {}
    if not isinstance(args, Mapping):
        raise SpecError(source, f"{where}.args", "must be a mapping of argument -> matcher")
    return CallPattern(
        raw["tool"],
        {str(k): parse_matcher(v, source, f"{where}.args.{k}") for k, v in args.items()},
    )


def match_ordered(expected: Sequence[CallPattern], calls: Sequence[ObservedCall]) -> int:
    """How many of ``expected`` are matched, in order, by a subsequence of ``calls``
    (the earliest match each time, which finds a full match whenever one exists)."""
    i = 0
    for call in calls:
        if i < len(expected) and expected[i].matches(call):
            i += 1
    return i


def match_unordered(
    expected: Sequence[CallPattern], calls: Sequence[ObservedCall]
) -> list[int | None]:
    """For each expected pattern, the index of a distinct call matching it (None if unmatched):
    a maximum bipartite matching (Kuhn's augmenting paths; suites are small)."""
    owner: dict[int, int] = {}
    ok = [[j for j, c in enumerate(calls) if p.matches(c)] for p in expected]

    def augment(i: int, seen: set[int]) -> bool:
        for j in ok[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())
    assigned: list[int | None] = [None] * len(expected)
    for j, i in owner.items():
        assigned[i] = j
    return assigned


def explain_missing(pattern: CallPattern, calls: Sequence[ObservedCall]) -> str:
    """A reason naming the nearest calls to a pattern that matched nothing."""
    same = [c for c in calls if c.tool == pattern.tool]
    if not same:
        made = ", ".join(c.tool for c in calls) or "no tool calls"
        return f"expected a call to {pattern.describe()}; made: {made}"
    why = "; ".join(", ".join(pattern.mismatches(c)) for c in same[:3])
    return f"expected a call to {pattern.describe()}; {len(same)} call(s) to {pattern.tool} did not match: {why}"
