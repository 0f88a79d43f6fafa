"""Aggregates over ``run.calls`` kept per run instead of recomputed at every decision.

- **Counts**: ``run.calls.filter(c, P).size()``, ``size(run.calls.filter(c, P))``,
  ``size(run.calls)``, ``run.calls.size()`` with ``P`` about ``c`` only. Each call is tested
  once, when it is new (one small CEL program on that call alone); the rule reads the count
  as ``run.<name>``. A call on which ``P`` errs makes the count absent, so the rule errs and
  fails closed, as the whole-list filter would.
- **Indexes**: ``run.calls.exists(c, L && c.f == E)`` with ``L`` about ``c`` only and ``E``
  not about ``c``. The distinct values of ``c.f`` over the calls ``L`` holds for are kept;
  the rule reads ``((size(idx) > 0 && (E) in idx) || idxErr)``, where ``idxErr`` is false,
  or absent (an error) once a call made ``L`` or ``c.f`` err: true when some call matches,
  an error when none does but one erred, false otherwise -- the whole-list ``exists``.

The names (``run.agentdeckCountN``) are ones no rule can write; a rule that names them is
left as written. The rewriting is applied per rule group by
:mod:`agentdeck.core.policy.program` only where no rule reads ``run`` whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.static import KEYWORDS, Token, is_op, tokenize

__all__ = ["Aggregate", "Tracker", "freeze", "rewrite_counts"]

#: The prefix of the ``run`` keys that carry kept aggregates.
PREFIX = "agentdeckCount"


class _Count:
    """A kept count: ``run.<name>`` (absent once a call made the predicate err)."""

    __slots__ = ("error", "fn", "name", "total")

    def __init__(self, name: str, fn: Callable[[dict[str, Any]], int]) -> None:
        self.name, self.fn = name, fn
        self.total: int | None = 0
        self.error: str | None = None  # why the count is unavailable

    def add(self, value: dict[str, Any]) -> None:
        if self.total is not None:
            try:
                self.total += self.fn(value)
            except Exception as exc:
                self.total = None  # the whole-list filter would err: so does the rule
                self.error = _describe(exc)

    def put(self, run: dict[str, Any]) -> None:
        if self.total is not None:
            run[self.name] = self.total


class _Index:
    """The distinct values of one field of the calls a predicate holds for: ``run.<name>``,
    and ``run.<name>Err``, false, absent once a call made the predicate or field err."""

    __slots__ = ("error", "fn", "keys", "name", "path", "values")

    def __init__(
        self, name: str, fn: Callable[[dict[str, Any]], int], path: tuple[str, ...]
    ) -> None:
        self.name, self.fn, self.path = name, fn, path
        self.values: list[Any] = []
        self.keys: set[Any] = set()
        self.error: str | None = None  # why the index cannot say "not found"

    def add(self, value: dict[str, Any]) -> None:
        # a poisoned index still collects: a later match makes the exists true all the same
        try:
            if not self.fn(value):
                return
            field: Any = value
            for part in self.path:
                if not isinstance(field, dict) or part not in field:
                    raise cel_engine.CelEvalError(f'NOT_FOUND: Key not found in map : "{part}"')
                field = field[part]
        except Exception as exc:
            if self.error is None:  # this call errs in the whole-list exists: so does the rule
                self.error = _describe(exc)
            return
        try:
            key = freeze(field)
        except TypeError:  # an unhashable leaf: kept, duplicates are harmless
            key = None
        if key is not None:
            if key in self.keys:
                return
            self.keys.add(key)
        self.values.append(field)

    def put(self, run: dict[str, Any]) -> None:
        run[self.name] = self.values
        if self.error is None:
            run[self.name + "Err"] = False


Tracker = _Count | _Index


def _describe(exc: BaseException) -> str:
    if isinstance(exc, cel_engine.CelEvalError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def freeze(value: Any) -> Any:
    """A hashable key equal for equal CEL values (types kept apart: 1, 1.0 and true differ)."""
    if isinstance(value, dict):
        return ("map", frozenset((freeze(k), freeze(v)) for k, v in value.items()))
    if isinstance(value, list | tuple):
        return ("list", tuple(freeze(v) for v in value))
    hash(value)
    return (type(value), value)


@dataclass(frozen=True)
class Aggregate:
    """One kept aggregate, read as ``run.<name>``. ``source`` is a program run on a one-call
    ``run.calls`` (None: every call counts): a count of 0 or 1, or, with ``path``, whether
    the call's ``path`` field goes into the index."""

    name: str
    source: str | None
    path: tuple[str, ...] | None = None

    def factory(self) -> Callable[[], Tracker]:
        """Compiles the program once; each call gives a fresh tracker for one run."""
        fn: Callable[[dict[str, Any]], Any] = lambda value: 1  # noqa: E731
        if self.source is not None:
            program = cel_engine.compile_for_eval(self.source)
            want = bool if self.path is not None else int

            def fn(value: dict[str, Any]) -> Any:
                out = cel_engine.evaluate(program, {"run": {"calls": [value]}})
                if type(out) is not want:
                    raise TypeError(f"not a {want.__name__}")
                return out

        path = self.path
        if path is not None:
            return lambda: _Index(self.name, fn, path)
        return lambda: _Count(self.name, fn)


def _close(tokens: list[Token], start: int) -> int:
    """Index of the bracket closing the one opened just before ``start`` (-1 if none)."""
    depth = 0
    for k in range(start, len(tokens)):
        t = tokens[k]
        if t.kind == "op" and t.text in "([{":
            depth += 1
        elif t.kind == "op" and t.text in ")]}":
            if depth == 0:
                return k
            depth -= 1
    return -1


def _element_only(pred: list[Token], var: str) -> bool:
    """Whether ``pred`` reads no variable but ``var`` (functions and fields are fine)."""
    for k, t in enumerate(pred):
        if t.kind != "ident" or is_op(pred, k - 1, ".") or is_op(pred, k + 1, "("):
            continue
        if t.text != var and t.text not in KEYWORDS:
            return False
    return True


def _run_calls(tokens: list[Token], i: int) -> bool:
    """``run . calls`` starts at ``i`` (``run`` not a field of something else)."""
    return (
        i + 2 < len(tokens)
        and tokens[i].kind == "ident"
        and tokens[i].text == "run"
        and not is_op(tokens, i - 1, ".")
        and is_op(tokens, i + 1, ".")
        and tokens[i + 2].kind == "ident"
        and tokens[i + 2].text == "calls"
    )


def _filter_at(tokens: list[Token], i: int) -> int | None:
    """For ``run.calls.filter(v, pred)`` at ``i`` with an element-only ``pred``: the index
    of its closing parenthesis."""
    if not (
        _run_calls(tokens, i)
        and is_op(tokens, i + 3, ".")
        and i + 7 < len(tokens)
        and tokens[i + 4].text == "filter"
        and is_op(tokens, i + 5, "(")
        and tokens[i + 6].kind == "ident"
        and is_op(tokens, i + 7, ",")
    ):
        return None
    end = _close(tokens, i + 6)
    if end < 0 or not _element_only(tokens[i + 8 : end], tokens[i + 6].text):
        return None
    return end


def _match(src: str, tokens: list[Token], i: int) -> tuple[int, int, str | None] | None:
    """A countable expression starting at token ``i``: (first token, last token, counting
    source or None for every call)."""
    # size(run.calls) / size(run.calls.filter(v, pred))
    if tokens[i].kind == "ident" and tokens[i].text == "size" and is_op(tokens, i + 1, "("):
        if not is_op(tokens, i - 1, "."):
            j = i + 2
            if _run_calls(tokens, j) and is_op(tokens, j + 3, ")"):
                return i, j + 3, None
            end = _filter_at(tokens, j)
            if end is not None and is_op(tokens, end + 1, ")"):
                return i, end + 1, _count_source(src, tokens, j, end)
        return None
    # run.calls.size() / run.calls.filter(v, pred).size()
    if not _run_calls(tokens, i):
        return None
    end = i + 2
    source: str | None = None
    filtered = _filter_at(tokens, i)
    if filtered is not None:
        end = filtered
        source = _count_source(src, tokens, i, end)
    if (
        is_op(tokens, end + 1, ".")
        and end + 4 < len(tokens)
        and tokens[end + 2].text == "size"
        and is_op(tokens, end + 3, "(")
        and is_op(tokens, end + 4, ")")
    ):
        return i, end + 4, source
    return None


def _count_source(src: str, tokens: list[Token], first: int, last: int) -> str:
    """``size(<the filter>)``, the filter's own text."""
    return f"size({src[tokens[first].pos : tokens[last].pos + 1]})"


def _split_top(tokens: list[Token], op: str) -> list[list[Token]] | None:
    """``tokens`` split on ``op`` at depth 0; None when a top-level ``||`` or ``?`` (other
    than ``op``) makes it something else."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.kind == "op" and t.text in "([{":
            depth += 1
        elif t.kind == "op" and t.text in ")]}":
            depth -= 1
        elif depth == 0 and t.kind == "op" and t.text != op and t.text in ("||", "?"):
            return None
        if depth == 0 and t.kind == "op" and t.text == op:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _field_path(tokens: list[Token], var: str) -> tuple[str, ...] | None:
    """``var.a.b`` as ``("a", "b")``; None for anything else."""
    if len(tokens) < 3 or len(tokens) % 2 == 0 or tokens[0].kind != "ident":
        return None
    if tokens[0].text != var:
        return None
    path: list[str] = []
    for k in range(1, len(tokens), 2):
        if not is_op(tokens, k, ".") or tokens[k + 1].kind != "ident":
            return None
        path.append(tokens[k + 1].text)
    return tuple(path)


def _text(src: str, tokens: list[Token]) -> str:
    return src[tokens[0].pos : tokens[-1].pos + len(tokens[-1].text)]


def _reads(tokens: list[Token], var: str) -> bool:
    return any(
        t.kind == "ident" and t.text == var and not is_op(tokens, k - 1, ".")
        for k, t in enumerate(tokens)
    )


def _index_at(src: str, tokens: list[Token], i: int) -> tuple[int, Aggregate, str] | None:
    """``run.calls.exists(v, L(v) && v.f == E)`` at ``i`` (L about v only, E not about v):
    its closing parenthesis, the index of ``f`` over the calls L holds for, and E's text."""
    if not (
        _run_calls(tokens, i)
        and is_op(tokens, i + 3, ".")
        and i + 7 < len(tokens)
        and tokens[i + 4].text == "exists"
        and is_op(tokens, i + 5, "(")
        and tokens[i + 6].kind == "ident"
        and is_op(tokens, i + 7, ",")
    ):
        return None
    var = tokens[i + 6].text
    end = _close(tokens, i + 6)
    conjuncts = _split_top(tokens[i + 8 : end], "&&") if end > 0 else None
    if not conjuncts or any(not c for c in conjuncts):
        return None
    for n, conj in enumerate(conjuncts):
        sides = _split_top(conj, "==")
        if sides is None or len(sides) != 2 or not all(sides):
            continue
        for field, other in (sides, sides[::-1]):
            path = _field_path(field, var)
            if path is None or _reads(other, var):
                continue
            rest = conjuncts[:n] + conjuncts[n + 1 :]
            if not all(_element_only(c, var) for c in rest):
                continue
            source = None
            if rest:
                cond = " && ".join(f"({_text(src, c)})" for c in rest)
                source = f"run.calls.exists({var}, {cond})"
            return end, Aggregate("", source, path), _text(src, other)
    return None


def rewrite_counts(text: str, known: dict[Any, str]) -> tuple[str, list[Aggregate]]:
    """``text`` with each countable expression, and each ``exists`` that looks a value up
    in the history, read from ``run`` instead; and the aggregates it now reads (``known``
    maps what is kept to the names already given, and is extended)."""
    if PREFIX in text:
        return text, []  # a rule naming our keys itself: left as written
    tokens = tokenize(text)
    out: list[str] = []
    found: list[Aggregate] = []
    last = 0
    i = 0
    while i < len(tokens):
        m = _match(text, tokens, i)
        index = None if m is not None else _index_at(text, tokens, i)
        if m is None and index is None:
            i += 1
            continue
        if m is not None:
            first, end, source = m
            agg = _named(Aggregate("", source), known)
            replacement = f"run.{agg.name}"
        else:
            assert index is not None
            first, (end, agg, value) = i, index
            agg = _named(agg, known)
            n = f"run.{agg.name}"
            replacement = f"((size({n}) > 0 && ({value}) in {n}) || {n}Err)"
        found.append(agg)
        out.append(text[last : tokens[first].pos])
        out.append(replacement)
        last = tokens[end].pos + len(tokens[end].text)
        i = end + 1
    if not found:
        return text, []
    out.append(text[last:])
    return "".join(out), found


def _named(agg: Aggregate, known: dict[Any, str]) -> Aggregate:
    key = (agg.source, agg.path)
    name = known.get(key)
    if name is None:
        name = known[key] = f"{PREFIX}{len(known)}"
    return Aggregate(name, agg.source, agg.path)
