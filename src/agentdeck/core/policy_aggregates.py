"""Counts over ``run.calls`` kept per run instead of recounted at every decision.

A rule that counts earlier calls -- ``run.calls.filter(c, c.outcome == "error").size()``,
``size(run.calls.filter(c, ...))``, ``size(run.calls)``, ``run.calls.size()`` -- would hand
the whole history to CEL and walk it at every decision. When the predicate reads nothing
but the element (``c``), its answer for a call never changes, so the count is kept per run:
each call is tested once, when it is new (one small CEL program on that call alone), and
the rule reads the count as ``run.<name>`` (a name no rule can write). A call on which the
predicate errs makes the count unavailable, so the rule errs, and fails closed, as the
whole-list filter would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agentdeck.core import cel_engine
from agentdeck.core.policy_static import KEYWORDS, Token, is_op, tokenize

__all__ = ["Aggregate", "rewrite_counts"]

#: The prefix of the ``run`` keys that carry kept counts.
PREFIX = "agentdeckCount"


@dataclass(frozen=True)
class Aggregate:
    """One kept count: ``run.<name>``; ``source`` counts the calls in a one-call ``run.calls``
    (None: every call counts)."""

    name: str
    source: str | None

    def counter(self) -> Callable[[dict[str, Any]], int]:
        """A function giving 0 or 1 for one call's value (raises when the predicate errs)."""
        if self.source is None:
            return lambda value: 1
        program = cel_engine.compile_for_eval(self.source)

        def count(value: dict[str, Any]) -> int:
            out = cel_engine.evaluate(program, {"run": {"calls": [value]}})
            if type(out) is not int:
                raise TypeError("not a count")
            return out

        return count


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


def rewrite_counts(text: str, known: dict[str | None, str]) -> tuple[str, list[Aggregate]]:
    """``text`` with each countable expression read from ``run`` instead, and the counts it
    now reads (``known`` maps counting sources to names already given, and is extended)."""
    if PREFIX in text:
        return text, []  # a rule naming our keys itself: left as written
    tokens = tokenize(text)
    out: list[str] = []
    found: list[Aggregate] = []
    last = 0
    i = 0
    while i < len(tokens):
        m = _match(text, tokens, i)
        if m is None:
            i += 1
            continue
        first, end, source = m
        name = known.get(source)
        if name is None:
            name = known[source] = f"{PREFIX}{len(known)}"
        found.append(Aggregate(name, source))
        out.append(text[last : tokens[first].pos])
        out.append(f"run.{name}")
        last = tokens[end].pos + len(tokens[end].text)
        i = end + 1
    if not found:
        return text, []
    out.append(text[last:])
    return "".join(out), found
