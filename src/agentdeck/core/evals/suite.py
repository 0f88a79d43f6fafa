"""Eval suites: parsing and validation, and the verdict of one case over a run's spans.

A suite file (YAML; JSON Schema ``eval_suite.schema.json``) lists cases, each with an input,
optional conversation history, tool fixtures (stubbed responses chosen by tool name and argument
matchers) and expected behaviour: tools that must be called (``order: ordered`` or ``any``), with
argument matchers; tools that must not be called; a maximum number of steps (tool calls); output
checks (``contains``, ``not_contains``, ``regex``); and a custom check ``module:function``.
Semantics are in docs/evals.md.

Everything here is pure: running the agent is the runner's job (``agentdeck.evals.runner``);
:func:`judge_case` only reads the spans the run left and its output, and calls a custom check
through the ``custom`` loader it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.evals.match import (
    CallPattern,
    ObservedCall,
    explain_missing,
    match_ordered,
    match_unordered,
    observed_calls,
    parse_call_pattern,
    show,
)
from agentdeck.core.spec.canonical import digest
from agentdeck.core.spec.schemas import validate
from agentdeck.core.trace.model import Span
from agentdeck.core.types import JSON


@dataclass(frozen=True)
class Fixture:
    """A stubbed tool response: served when the call matches ``pattern``; ``error`` raises."""

    pattern: CallPattern
    result: JSON = None
    error: str | None = None


@dataclass(frozen=True)
class OutputCheck:
    contains: tuple[str, ...] = ()
    not_contains: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Expectation:
    calls: tuple[CallPattern, ...] = ()
    ordered: bool = False
    not_called: tuple[CallPattern, ...] = ()
    max_steps: int | None = None
    output: OutputCheck = field(default_factory=OutputCheck)
    check: str | None = None  # "module:function"


@dataclass(frozen=True)
class Case:
    id: str
    input: JSON
    expect: Expectation = field(default_factory=Expectation)
    history: tuple[Mapping[str, JSON], ...] = ()
    fixtures: tuple[Fixture, ...] = ()
    description: str = ""

    def agent_input(self) -> JSON:
        """What the entrypoint receives: the input, or ``{"message", "history"}`` with history."""
        if not self.history:
            return self.input
        return {"message": self.input, "history": [dict(m) for m in self.history]}


@dataclass(frozen=True)
class Thresholds:
    min_pass_rate: float = 1.0
    must_pass: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suite:
    name: str
    cases: tuple[Case, ...]
    digest: str
    source: str = "suite"
    description: str = ""
    fixtures: tuple[Fixture, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    strict_fixtures: bool = False
    paths: tuple[str, ...] = ()

    def case(self, case_id: str) -> Case | None:
        return next((c for c in self.cases if c.id == case_id), None)

    def fixtures_for(self, case: Case) -> tuple[Fixture, ...]:
        """The case's own fixtures first, then the suite's."""
        return case.fixtures + self.fixtures


# -- parsing -----------------------------------------------------------------------------


def _strings(raw: JSON) -> tuple[str, ...]:
    if raw is None:
        return ()
    return (raw,) if isinstance(raw, str) else tuple(str(x) for x in raw)


def _regex(raw: str, source: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(raw)
    except re.error as exc:
        raise SpecError(source, where, f"invalid regular expression: {exc}") from None


def parse_fixtures(
    raw: Sequence[Mapping[str, JSON]], source: str, where: str
) -> tuple[Fixture, ...]:
    out = []
    for i, f in enumerate(raw):
        at = f"{where}[{i}]"
        pattern = parse_call_pattern(f, source, at)
        out.append(Fixture(pattern, f.get("result"), f.get("error")))
    return tuple(out)


def _expectation(
    raw: Mapping[str, JSON], defaults: Mapping[str, JSON], source: str, where: str
) -> Expectation:
    out = raw.get("output") or {}
    regex = out.get("regex")
    max_steps = raw.get("max_steps", defaults.get("max_steps"))
    return Expectation(
        calls=tuple(
            parse_call_pattern(c, source, f"{where}.calls[{i}]")
            for i, c in enumerate(raw.get("calls") or ())
        ),
        ordered=raw.get("order", "any") == "ordered",
        not_called=tuple(
            parse_call_pattern(c, source, f"{where}.not_called[{i}]")
            for i, c in enumerate(raw.get("not_called") or ())
        ),
        max_steps=max_steps,
        output=OutputCheck(
            contains=_strings(out.get("contains")),
            not_contains=_strings(out.get("not_contains")),
            regex=_regex(regex, source, f"{where}.output.regex") if regex is not None else None,
        ),
        check=raw.get("check"),
    )


def parse_suite(data: JSON, source: str) -> Suite:
    """Validate ``data`` (a suite file's content) and build the :class:`Suite`.

    Errors are :class:`SpecError` naming ``source`` and the field (``cases[2].expect.calls[0].tool``).
    """
    if not isinstance(data, Mapping):
        raise SpecError(source, None, "an eval suite is a mapping with name and cases")
    validate("eval_suite", data, source)
    defaults = data.get("defaults") or {}
    cases: list[Case] = []
    seen: set[str] = set()
    for i, c in enumerate(data["cases"]):
        where = f"cases[{i}]"
        if c["id"] in seen:
            raise SpecError(source, f"{where}.id", f"duplicate case id {c['id']!r}")
        seen.add(c["id"])
        cases.append(
            Case(
                id=c["id"],
                input=c["input"],
                expect=_expectation(c.get("expect") or {}, defaults, source, f"{where}.expect"),
                history=tuple(dict(m) for m in c.get("history") or ()),
                fixtures=parse_fixtures(c.get("fixtures") or (), source, f"{where}.fixtures"),
                description=c.get("description", ""),
            )
        )
    th = data.get("thresholds") or {}
    must = tuple(th.get("must_pass") or ())
    for j, name in enumerate(must):
        if name not in seen:
            raise SpecError(source, f"thresholds.must_pass[{j}]", f"no case with id {name!r}")
    return Suite(
        name=data["name"],
        cases=tuple(cases),
        digest=digest(data),
        source=source,
        description=data.get("description", ""),
        fixtures=parse_fixtures(data.get("fixtures") or (), source, "fixtures"),
        thresholds=Thresholds(float(th.get("min_pass_rate", 1.0)), must),
        strict_fixtures=bool(data.get("strict_fixtures", False)),
        paths=tuple(data.get("paths") or ()),
    )


def serve_fixture(fixtures: Sequence[Fixture], call: ObservedCall) -> Fixture | None:
    """The first fixture whose tool and argument matchers match ``call``."""
    return next((f for f in fixtures if f.pattern.matches(call)), None)


# -- verdicts ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckContext:
    """What a custom check receives: the case, the run's tool calls, its output and spans."""

    case: Case
    calls: tuple[ObservedCall, ...]
    output: JSON
    spans: tuple[Span, ...]
    error: str | None = None


CustomCheck = Callable[[CheckContext], Any]
CheckLoader = Callable[[str], CustomCheck]


@dataclass(frozen=True)
class Verdict:
    """A case's outcome: passed, and the reasons it failed (empty when it passed)."""

    passed: bool
    reasons: tuple[str, ...] = ()
    steps: int = 0

    def to_dict(self) -> dict[str, JSON]:
        return {"passed": self.passed, "reasons": list(self.reasons), "steps": self.steps}


def _text(output: JSON) -> str:
    return output if isinstance(output, str) else show(output, 1_000_000)


def _custom(check: str, ctx: CheckContext, loader: CheckLoader | None) -> str | None:
    """Run a custom check; its failure reason, or None when it passes.

    A check returns True/None (pass), False (fail), a string (fail with that reason) or
    ``(passed, reason)``; an ``AssertionError`` fails with its message.
    """
    if loader is None:
        return f"custom check {check}: no loader to import it"
    try:
        fn = loader(check)
        got = fn(ctx)
    except AssertionError as exc:
        return f"custom check {check}: {exc or 'assertion failed'}"
    except Exception as exc:
        return f"custom check {check} raised {type(exc).__name__}: {exc}"
    if got is None or got is True:
        return None
    if got is False:
        return f"custom check {check} failed"
    if isinstance(got, str):
        return f"custom check {check}: {got}"
    if isinstance(got, tuple) and len(got) == 2:
        return None if got[0] else f"custom check {check}: {got[1]}"
    return f"custom check {check} returned {type(got).__name__}, not bool/str/(bool, str)"


def judge_case(
    case: Case,
    spans: Sequence[Span],
    output: JSON,
    *,
    error: str | None = None,
    custom: CheckLoader | None = None,
    calls: Sequence[ObservedCall] | None = None,
) -> Verdict:
    """Judge one case from the spans its run left and its output (``error``: the run's error)."""
    made = tuple(calls) if calls is not None else observed_calls(spans)
    exp = case.expect
    reasons: list[str] = []
    if error is not None:
        reasons.append(f"the run failed: {error}")
    if exp.ordered:
        n = match_ordered(exp.calls, made)
        if n < len(exp.calls):
            order = " -> ".join(c.tool for c in made) or "no tool calls"
            reasons.append(
                f"expected calls in order; call #{n + 1} {exp.calls[n].describe()} not found "
                f"after the earlier ones (order was: {order})"
            )
    else:
        for pattern, idx in zip(exp.calls, match_unordered(exp.calls, made), strict=True):
            if idx is None:
                reasons.append(explain_missing(pattern, made))
    for pattern in exp.not_called:
        bad = [c for c in made if pattern.matches(c)]
        if bad:
            args = show(dict(bad[0].args))
            reasons.append(
                f"{pattern.describe()} must not be called; called {len(bad)}x (first with {args})"
            )
    if exp.max_steps is not None and len(made) > exp.max_steps:
        reasons.append(f"{len(made)} steps (tool calls), more than max_steps {exp.max_steps}")
    text = _text(output)
    for s in exp.output.contains:
        if s.lower() not in text.lower():
            reasons.append(f"output does not contain {s!r}")
    for s in exp.output.not_contains:
        if s.lower() in text.lower():
            reasons.append(f"output contains {s!r}")
    if exp.output.regex is not None and exp.output.regex.search(text) is None:
        reasons.append(f"output does not match /{exp.output.regex.pattern}/")
    if exp.check is not None:
        ctx = CheckContext(case, made, output, tuple(spans), error)
        why = _custom(exp.check, ctx, custom)
        if why is not None:
            reasons.append(why)
    return Verdict(not reasons, tuple(reasons), len(made))
