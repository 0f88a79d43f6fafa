"""The search query language of the runs list: one syntax for the CLI (``runs -q``), the API
(``GET /api/v1/runs?q=``) and the UI's search box. The grammar is in ``docs/search.md``::

    query    = [ or_expr ] EOF
    or_expr  = and_expr { "OR" and_expr }
    and_expr = unary { [ "AND" ] unary }
    unary    = ( "NOT" | "-" ) unary | primary
    primary  = "(" or_expr ")" | term
    term     = FIELD OP value | text
    OP       = ":" | "=" | "!=" | ">" | ">=" | "<" | "<="
    value    = WORD | QUOTED
    text     = WORD [ "*" ] | QUOTED

A hand-written recursive descent parser (the grammar is small; it needs no dependency and
names the position of any error). The result is a tree of frozen values: :class:`Term` (a
field compared with a typed value), :class:`Text` (words or a phrase searched in the text of
inputs, outputs and tool arguments and results), :class:`Not`, :class:`All` and :class:`Any_`.
A malformed query is an :class:`InputError` naming the source (``query.q``, ``-q``) and the
1-based position: ``query.q: position 6: expected a value after 'cost>'``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from agentdeck.core.errors import InputError
from agentdeck.core.timeparse import parse_time_ns

__all__ = [
    "FIELDS",
    "All",
    "Any_",
    "Node",
    "Not",
    "Term",
    "Text",
    "parse_search",
]

MAX_LENGTH = 2000
"""The longest query accepted, in characters."""
MAX_DEPTH = 16
"""How deeply parentheses and negations may nest."""
MAX_TERMS = 64
"""How many terms (fields and texts) one query may hold."""


@dataclass(frozen=True)
class Term:
    """``field op value``: ``field`` is canonical (see :data:`FIELDS`; ``attr.KEY`` and
    ``metadata.KEY`` keep their key), ``value`` typed: str, int, float (cost, in USD), bool,
    or int nanoseconds (``time``, ``latency``)."""

    field: str
    op: str
    value: str | int | float | bool
    pos: int = 0


@dataclass(frozen=True)
class Text:
    """Free text: ``words`` all present (a ``prefix`` match for the last one), or the exact
    ``phrase`` when quoted."""

    text: str
    phrase: bool = False
    prefix: bool = False
    pos: int = 0


@dataclass(frozen=True)
class Not:
    item: Node


@dataclass(frozen=True)
class All:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Any_:
    items: tuple[Node, ...]


Node = Term | Text | Not | All | Any_

_EQ = (":", "=", "!=")
_ORDER = (":", "=", "!=", ">", ">=", "<", "<=")
_STATUS = ("ok", "error", "unset")
_OUTCOME = ("success", "failure")

# field -> (kind, accepted operators); aliases map onto the canonical name
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "agent": ("str", _EQ),
    "version": ("int", _ORDER),
    "digest": ("str", _EQ),
    "env": ("str", _EQ),
    "status": ("status", _EQ),
    "outcome": ("outcome", _EQ),
    "session": ("str", _EQ),
    "user": ("str", _EQ),
    "tool": ("str", _EQ),
    "tag": ("str", _EQ),
    "errors": ("count", _ORDER),
    "denied": ("count", _ORDER),
    "cost": ("usd", _ORDER),
    "latency": ("duration", _ORDER),
    "time": ("time", _ORDER),
    "text": ("text", (":",)),
    "attr.": ("str", _EQ),
    "metadata.": ("str", _EQ),
}
_ALIASES = {
    "session_id": "session",
    "user_id": "user",
    "start": "time",
    "started": "time",
    "cost_usd": "cost",
    "duration": "latency",
    "tags": "tag",
    "attributes.": "attr.",
    "attribute.": "attr.",
    "meta.": "metadata.",
}
_KEYWORDS = ("AND", "OR", "NOT")
_TERM = re.compile(r"([A-Za-z_][A-Za-z0-9_]*(?:\.[^\s:=!<>()\"]+)?)(>=|<=|!=|:|=|>|<)(.*)\Z", re.S)
_STOP = ' \t\r\n()"'
_DURATION = re.compile(r"(\d{1,12}(?:\.\d{1,9})?)(ms|s|m|h|d)\Z")
_UNIT_NS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9}


@dataclass(frozen=True)
class _Tok:
    kind: str  # "(", ")", "word", "quoted", "term", "eof"
    text: str
    pos: int  # 0-based offset
    op: str = ""
    field: str = ""
    value: str = ""
    quoted_value: bool = False


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.src, self.source = text, source
        self.toks = self._lex(text)
        self.i = 0
        self.terms = 0

    # -- errors --------------------------------------------------------------------------------
    def fail(self, pos: int, msg: str) -> InputError:
        return InputError(f"{self.source}: position {pos + 1}: {msg}")

    # -- lexer ---------------------------------------------------------------------------------
    def _quoted(self, text: str, i: int) -> tuple[str, int]:
        """The string starting at the quote at ``i`` (``\\"`` and ``\\\\`` escaped) and the index
        after its closing quote."""
        out: list[str] = []
        j = i + 1
        while j < len(text):
            c = text[j]
            if c == "\\" and j + 1 < len(text) and text[j + 1] in '"\\':
                out.append(text[j + 1])
                j += 2
                continue
            if c == '"':
                return "".join(out), j + 1
            out.append(c)
            j += 1
        raise self.fail(i, "unterminated quoted string")

    def _lex(self, text: str) -> list[_Tok]:
        toks: list[_Tok] = []
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            if c in " \t\r\n":
                i += 1
            elif c in "()":
                toks.append(_Tok(c, c, i))
                i += 1
            elif c == '"':
                value, i2 = self._quoted(text, i)
                toks.append(_Tok("quoted", value, i))
                i = i2
            else:
                j = i
                while j < n and text[j] not in _STOP:
                    j += 1
                word = text[i:j]
                m = _TERM.match(word)
                if m and not word.startswith("-"):
                    field, op, value = m.group(1), m.group(2), m.group(3)
                    quoted = False
                    if not value and j < n and text[j] == '"':
                        value, j = self._quoted(text, j)
                        quoted = True
                    toks.append(_Tok("term", word, i, op, field, value, quoted))
                elif c == "-" and len(word) > 1:
                    toks.append(_Tok("not", "-", i))
                    j = i + 1
                else:
                    toks.append(_Tok("word", word, i))
                i = j
        toks.append(_Tok("eof", "", n))
        return toks

    # -- parser --------------------------------------------------------------------------------
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def is_kw(self, tok: _Tok, kw: str) -> bool:
        return tok.kind == "word" and tok.text == kw

    def parse(self) -> Node | None:
        if self.peek().kind == "eof":
            return None
        node = self.or_expr(0)
        tok = self.peek()
        if tok.kind != "eof":
            raise self.fail(tok.pos, f"unexpected {_shown(tok)}")
        return node

    def or_expr(self, depth: int) -> Node:
        items = [self.and_expr(depth)]
        while self.is_kw(self.peek(), "OR"):
            self.take()
            items.append(self.and_expr(depth))
        return items[0] if len(items) == 1 else Any_(tuple(items))

    def and_expr(self, depth: int) -> Node:
        items = [self.unary(depth)]
        while True:
            tok = self.peek()
            if tok.kind in ("eof", ")") or self.is_kw(tok, "OR"):
                break
            if self.is_kw(tok, "AND"):
                self.take()
            items.append(self.unary(depth))
        return items[0] if len(items) == 1 else All(tuple(items))

    def unary(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.fail(self.peek().pos, f"nested more than {MAX_DEPTH} deep")
        tok = self.peek()
        if tok.kind == "not" or self.is_kw(tok, "NOT"):
            self.take()
            return Not(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> Node:
        tok = self.take()
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise self.fail(self.peek().pos, "empty parentheses")
            node = self.or_expr(depth + 1)
            close = self.take()
            if close.kind != ")":
                raise self.fail(
                    close.pos, f"expected ')' to close the '(' at position {tok.pos + 1}"
                )
            return node
        if tok.kind in ("eof", ")"):
            raise self.fail(tok.pos, f"expected a term, got {_shown(tok)}")
        if tok.kind == "word" and tok.text in _KEYWORDS:
            raise self.fail(tok.pos, f"expected a term, got {tok.text}")
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise self.fail(tok.pos, f"more than {MAX_TERMS} terms")
        if tok.kind == "quoted":
            if not tok.text.strip():
                raise self.fail(tok.pos, "empty quoted text")
            return Text(tok.text, phrase=True, pos=tok.pos)
        if tok.kind == "word":
            return _text(tok)
        return self.term(tok)

    def term(self, tok: _Tok) -> Node:
        name = tok.field
        key = ""
        if "." in name:
            head, _, key = name.partition(".")
            name = _ALIASES.get(head + ".", head + ".")
        else:
            name = _ALIASES.get(name, name)
        spec = FIELDS.get(name)
        if spec is None or (name.endswith(".") and not key):
            known = ", ".join(sorted(f + "KEY" if f.endswith(".") else f for f in FIELDS))
            raise self.fail(
                tok.pos, f"unknown field {tok.field!r} (fields: {known}; quote text to search it)"
            )
        kind, ops = spec
        if tok.op not in ops:
            raise self.fail(
                tok.pos + len(tok.field),
                f"{tok.field}: operator {tok.op!r} not allowed (use {' '.join(ops)})",
            )
        raw = tok.value
        if not raw and not tok.quoted_value:
            raise self.fail(
                tok.pos + len(tok.field) + len(tok.op),
                f"expected a value after {tok.field + tok.op!r}",
            )
        vpos = tok.pos + len(tok.field) + len(tok.op)
        op = "=" if tok.op == ":" else tok.op
        if kind == "text":
            if not raw.strip():
                raise self.fail(vpos, "empty text")
            return (
                Text(raw, phrase=tok.quoted_value, pos=tok.pos)
                if tok.quoted_value
                else _text(_Tok("word", raw, vpos))
            )
        value = self.value(kind, raw, tok.field, vpos)
        field = name + key if name.endswith(".") else name
        return Term(field, op, value, tok.pos)

    def value(self, kind: str, raw: str, field: str, pos: int) -> str | int | float | bool:
        where = f"{self.source}: position {pos + 1}: {field}"
        if kind == "str":
            if len(raw) > 200:
                raise self.fail(pos, f"{field}: at most 200 characters")
            return raw
        if kind == "status":
            if raw not in _STATUS:
                raise self.fail(pos, f"{field}: expected {', '.join(_STATUS)}, got {raw!r}")
            return raw
        if kind == "outcome":
            if raw not in _OUTCOME:
                raise self.fail(pos, f"{field}: expected {', '.join(_OUTCOME)}, got {raw!r}")
            return raw
        if kind in ("int", "count"):
            if raw in ("true", "false") and kind == "count":
                return raw == "true"
            if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
                want = "a whole number" + (" or true/false" if kind == "count" else "")
                raise self.fail(pos, f"{field}: expected {want}, got {raw!r}")
            return int(raw)
        if kind == "usd":
            try:
                usd = float(raw.removeprefix("$"))
            except ValueError:
                usd = math.nan
            if not math.isfinite(usd) or usd < 0:
                raise self.fail(pos, f"{field}: expected an amount in USD (0.25, $2), got {raw!r}")
            return usd
        if kind == "duration":
            m = _DURATION.match(raw)
            if m is None:
                raise self.fail(pos, f"{field}: expected a duration (250ms, 1.5s, 5m), got {raw!r}")
            whole, _, frac = m.group(1).partition(".")
            unit = _UNIT_NS[m.group(2)]
            return int(whole) * unit + int(frac or "0") * unit // 10 ** len(frac)
        try:
            return parse_time_ns(raw, where)
        except InputError as exc:
            raise InputError(str(exc)) from None


def _text(tok: _Tok) -> Text:
    word = tok.text
    prefix = word.endswith("*") and len(word.rstrip("*")) > 0
    return Text(word.rstrip("*") if prefix else word, prefix=prefix, pos=tok.pos)


def _shown(tok: _Tok) -> str:
    return "end of query" if tok.kind == "eof" else repr(tok.text)


def parse_search(text: str, source: str = "query.q") -> Node | None:
    """The tree of ``text`` (None for an empty query); an :class:`InputError` naming
    ``source`` and the position when it does not parse."""
    if len(text) > MAX_LENGTH:
        raise InputError(f"{source}: at most {MAX_LENGTH} characters, got {len(text)}")
    if "\x00" in text:
        raise InputError(f"{source}: position {text.index(chr(0)) + 1}: NUL character")
    return _Parser(text, source).parse()
