"""Static analysis of CEL text: a tokenizer and the facts policy evaluation relies on.

The CEL engine's Python wrapper (cel-expr-python) checks and evaluates but hands back no
syntax tree, so this small tokenizer is hand-rolled. It only has to read text the engine
already accepted, and it never raises on any input. From its tokens come:

- the tool names a rule is restricted to (top-level conjuncts ``tool.name == "x"`` or
  ``tool.name in [...]``), used to index rules by tool;
- the attribute paths a rule reads (``args.amount``, ``args["to"]``,
  ``run.calls.exists(c, c.tool == "x")`` -> ``run.calls[each].tool``), used to convert only
  those parts of a call's context into CEL values, and by policy coverage;
- the names bound by comprehension macros, which are not unknown variables.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
KEYWORDS = frozenset({"true", "false", "null", "in"})

# -- tokenizer ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A lexical token: kind is ident, string, number, op or other; ``value`` is the decoded
    text of a plain string literal without escapes (else None)."""

    kind: str
    text: str
    pos: int
    value: str | None = None


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%?:.,\[\](){}])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(src: str) -> list[Token]:
    """Tokens of ``src`` without whitespace and comments. Never raises."""
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(src):
        kind = m.lastgroup or "other"
        if kind == "ws":
            continue
        text = m.group()
        value = None
        if (
            kind == "string"
            and text[0] in "\"'"
            and "\\" not in text
            and not text.startswith(('"""', "'''"))
        ):
            value = text[1:-1]
        out.append(Token(kind, text, m.start(), value))
    return out


def is_op(tokens: list[Token], i: int, text: str) -> bool:
    return 0 <= i < len(tokens) and tokens[i].kind == "op" and tokens[i].text == text


def _is_ident(tokens: list[Token], i: int, text: str | None = None) -> bool:
    return (
        0 <= i < len(tokens)
        and tokens[i].kind == "ident"
        and (text is None or tokens[i].text == text)
    )


# -- static facts -------------------------------------------------------------------------

Path = tuple[str, ...]


@dataclass(frozen=True)
class ExprFacts:
    """What static analysis of one ``when`` found.

    ``tool_scope``: the rule can only match calls to these tools (a top-level conjunct
    ``tool.name == "x"`` or ``tool.name in [...]``), or None if it may match any tool.
    ``named_tools``: every tool name compared with ``tool.name`` anywhere in the rule.
    ``paths``: attribute paths read from a root variable, e.g. ``("args", "amount")``; a path
    of length one means the root is used whole. ``bound``: names bound by macros.
    ``opaque``: a macro-bound name iterates something other than a plain path (say the
    result of ``filter``), so ``paths`` may not say everything the rule reads.
    """

    tool_scope: frozenset[str] | None
    named_tools: frozenset[str]
    paths: frozenset[Path]
    bound: frozenset[str]
    opaque: bool = False

    def arg_paths(self) -> frozenset[str]:
        """Dotted argument paths the rule mentions (``customer.email``)."""
        return frozenset(
            ".".join(p[1:]).replace("." + EACH, "[]").replace(EACH, "[]")
            for p in self.paths
            if p[0] == "args" and len(p) > 1
        )


def analyze(src: str) -> ExprFacts:
    """Static facts of a CEL expression (best on text the CEL engine accepted)."""
    tokens = tokenize(src)
    bound = _bound_names(tokens)
    paths, opaque = _paths(tokens, bound)
    named = _named_tools(tokens) if "tool" not in bound else set()
    scope = None if "tool" in bound else _tool_scope(tokens)
    return ExprFacts(scope, frozenset(named), frozenset(paths), frozenset(bound), opaque)


def leading_dot_roots(src: str, roots: Collection[str]) -> set[str]:
    """Root variables named with CEL's leading dot (``.args``, resolved from the root
    scope), which attribute chains do not see: they are read whole."""
    tokens = tokenize(src)
    out: set[str] = set()
    for i, t in enumerate(tokens):
        if t.kind != "ident" or t.text not in roots or not is_op(tokens, i - 1, "."):
            continue
        before = tokens[i - 2] if i >= 2 else None
        operand_end = before is not None and (
            before.kind in ("ident", "string", "number")
            or (before.kind == "op" and before.text in ")]}")
        )
        if not operand_end:
            out.add(t.text)
    return out


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:/@-]+")


def with_tool_name(src: str, name: str) -> str:
    """``src`` with each free ``tool.name`` replaced by the literal ``name``: the text a rule
    group runs for calls to one tool, where ``tool.name`` can only be ``name``. Left as is
    when ``tool`` is bound by a macro, or used under ``has()`` (which needs a selection),
    or when the name is not a plain identifier-like word."""
    if not _PLAIN_NAME.fullmatch(name):
        return src
    tokens = tokenize(src)
    if "tool" in _bound_names(tokens):
        return src
    spans: list[int] = []
    for i in range(len(tokens)):
        if not (
            _is_ident(tokens, i, "tool")
            and not is_op(tokens, i - 1, ".")
            and is_op(tokens, i + 1, ".")
            and _is_ident(tokens, i + 2, "name")
            and not is_op(tokens, i + 3, "(")
        ):
            continue
        if _is_ident(tokens, i - 2, "has") and is_op(tokens, i - 1, "("):
            return src
        spans.append(i)
    if not spans:
        return src
    out: list[str] = []
    last = 0
    for i in spans:
        out.append(src[last : tokens[i].pos])
        out.append(f'"{name}"')
        last = tokens[i + 2].pos + len("name")
    out.append(src[last:])
    return "".join(out)


def _bound_names(tokens: list[Token]) -> set[str]:
    out: set[str] = set()
    for i, t in enumerate(tokens):
        if (
            t.kind == "ident"
            and t.text in MACROS
            and is_op(tokens, i - 1, ".")
            and is_op(tokens, i + 1, "(")
            and _is_ident(tokens, i + 2)
            and is_op(tokens, i + 3, ",")
        ):
            out.add(tokens[i + 2].text)
    return out


#: Path step meaning "each element of this list" (a macro's receiver). It cannot come from a
#: CEL string literal: the tokenizer decodes no literal containing a backslash escape.
EACH = "\x00[]"


def _chains(tokens: list[Token]) -> list[tuple[int, Path, str | None]]:
    """Every attribute chain ``root(.f | ["k"])*``: its start token, its path, and the
    variable it binds when a macro (``.exists(c, ...)``) is applied to it."""
    out: list[tuple[int, Path, str | None]] = []
    n = len(tokens)
    binding_tokens: set[int] = set()
    for i, t in enumerate(tokens):
        if (
            i in binding_tokens
            or t.kind != "ident"
            or t.text in KEYWORDS
            or is_op(tokens, i - 1, ".")
            or is_op(tokens, i + 1, "(")
        ):
            continue
        path: list[str] = [t.text]
        j = i + 1
        while j < n:
            if is_op(tokens, j, ".") and _is_ident(tokens, j + 1) and not is_op(tokens, j + 2, "("):
                path.append(tokens[j + 1].text)
                j += 2
            elif (
                is_op(tokens, j, "[")
                and j + 1 < n
                and tokens[j + 1].value is not None
                and is_op(tokens, j + 2, "]")
            ):
                path.append(tokens[j + 1].value or "")
                j += 3
            else:
                break
        binds = None
        if (
            is_op(tokens, j, ".")
            and j + 1 < n
            and tokens[j + 1].text in MACROS
            and is_op(tokens, j + 2, "(")
            and _is_ident(tokens, j + 3)
            and is_op(tokens, j + 4, ",")
        ):
            binds = tokens[j + 3].text
            binding_tokens.add(j + 3)
        out.append((i, tuple(path), binds))
    return out


def _paths(tokens: list[Token], bound: set[str]) -> tuple[set[Path], bool]:
    """Paths read from free root variables. A chain rooted at a macro-bound name is mapped
    onto the macro's receiver: ``run.calls.exists(c, c.tool == "x")`` reads
    ``("run", "calls", EACH, "tool")``. A bound name used whole, or bound over a receiver
    that is itself not a free path, keeps its receiver whole."""
    chains = _chains(tokens)
    receivers: dict[str, list[Path]] = {}
    for _, path, binds in chains:
        if binds is not None:
            receivers.setdefault(binds, []).append(path)

    def resolve(path: Path, depth: int = 0) -> list[Path]:
        if path[0] not in bound:
            return [path]
        if depth > 8 or path[0] not in receivers:
            return []
        out: list[Path] = []
        for recv in receivers[path[0]]:
            for base in resolve(recv, depth + 1):
                out.append((*base, EACH, *path[1:]))
        return out

    used = {path[0] for _, path, _ in chains}
    opaque = any(name in used and name not in receivers for name in bound)
    out: set[Path] = set()
    for i, path, binds in chains:
        if binds is not None:  # the receiver: its elements are read through `binds`
            if binds not in used:
                out.update((*p, EACH) for p in resolve(path))
            continue
        out.update(resolve(path))
        # `"to" in args` mentions args.to (the whole root is still recorded above).
        if (
            len(path) == 1
            and path[0] not in bound
            and _is_ident(tokens, i - 1, "in")
            and i >= 2
            and tokens[i - 2].value is not None
        ):
            out.add((path[0], tokens[i - 2].value or ""))
    return out, opaque


def _tool_test(tokens: list[Token]) -> set[str] | None:
    """Tool names if ``tokens`` is exactly ``tool.name == "x"`` (either side) or
    ``tool.name in ["x", "y"]``; else None."""
    n = len(tokens)

    def name_ref(k: int) -> bool:
        return (
            _is_ident(tokens, k, "tool")
            and is_op(tokens, k + 1, ".")
            and _is_ident(tokens, k + 2, "name")
        )

    if n == 5 and name_ref(0) and is_op(tokens, 3, "==") and tokens[4].value is not None:
        return {tokens[4].value}
    if n == 5 and name_ref(2) and is_op(tokens, 1, "==") and tokens[0].value is not None:
        return {tokens[0].value}
    if (
        n >= 6
        and name_ref(0)
        and _is_ident(tokens, 3, "in")
        and is_op(tokens, 4, "[")
        and is_op(tokens, n - 1, "]")
    ):
        names: set[str] = set()
        items = tokens[5 : n - 1]
        for k, tok in enumerate(items):
            if k % 2 == 0 and tok.value is not None:
                names.add(tok.value)
            elif k % 2 == 1 and tok.kind == "op" and tok.text == ",":
                continue
            else:
                return None
        return names
    return None


def _split_top(tokens: list[Token], sep: str) -> list[list[Token]] | None:
    """Split on ``sep`` at nesting depth 0; None if a top-level ``?`` makes it a ternary."""
    parts: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        if t.kind == "op" and t.text in "([{":
            depth += 1
        elif t.kind == "op" and t.text in ")]}":
            depth -= 1
        elif depth == 0 and t.kind == "op" and t.text == "?":
            return None
        if depth == 0 and t.kind == "op" and t.text == sep:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


def _strip_parens(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and is_op(tokens, 0, "(") and is_op(tokens, len(tokens) - 1, ")"):
        depth = 0
        for k, t in enumerate(tokens):
            depth += t.kind == "op" and t.text in "([{"
            depth -= t.kind == "op" and t.text in ")]}"
            if depth == 0 and k < len(tokens) - 1:
                return tokens  # the first paren closes early: `(a) && (b)`
        tokens = tokens[1:-1]
    return tokens


def tool_scope(tokens: list[Token]) -> frozenset[str] | None:
    """The tool names ``tokens`` (an expression) requires ``tool.name`` to be one of, by its
    top-level conjuncts; None when it requires none."""
    return _tool_scope(tokens)


def _tool_scope(tokens: list[Token], depth: int = 0) -> frozenset[str] | None:
    """Intersection of the tool tests among the top-level ``&&`` conjuncts. Sound because a
    false conjunct makes CEL's commutative ``&&`` false whatever the other conjuncts do."""
    tokens = _strip_parens(tokens)
    disjuncts = _split_top(tokens, "||")
    if disjuncts is None or len(disjuncts) != 1 or depth > 20:
        return None
    scope: set[str] | None = None
    for conj in _split_top(tokens, "&&") or []:
        conj = _strip_parens(conj)
        names = _tool_test(conj)
        if names is None and len(_split_top(conj, "&&") or []) > 1:
            inner = _tool_scope(conj, depth + 1)
            names = set(inner) if inner is not None else None
        if names is None:
            disjuncts = _split_top(conj, "||")
            if disjuncts and len(disjuncts) > 1:
                found = [_tool_test(_strip_parens(d)) for d in disjuncts]
                if all(f is not None for f in found):
                    names = set().union(*(f for f in found if f is not None))
        if names is not None:
            scope = names if scope is None else scope & names
    return frozenset(scope) if scope is not None else None


def _named_tools(tokens: list[Token]) -> set[str]:
    out: set[str] = set()
    for i in range(len(tokens)):
        if not (
            _is_ident(tokens, i, "tool")
            and is_op(tokens, i + 1, ".")
            and _is_ident(tokens, i + 2, "name")
        ):
            continue
        if (
            (is_op(tokens, i + 3, "==") or is_op(tokens, i + 3, "!="))
            and i + 4 < len(tokens)
            and tokens[i + 4].value is not None
        ):
            out.add(tokens[i + 4].value or "")
        if (
            (is_op(tokens, i - 1, "==") or is_op(tokens, i - 1, "!="))
            and i >= 2
            and tokens[i - 2].value is not None
        ):
            out.add(tokens[i - 2].value or "")
        if _is_ident(tokens, i + 3, "in") and is_op(tokens, i + 4, "["):
            k = i + 5
            while k < len(tokens) and not is_op(tokens, k, "]"):
                if tokens[k].value is not None:
                    out.add(tokens[k].value or "")
                k += 1
    return out
