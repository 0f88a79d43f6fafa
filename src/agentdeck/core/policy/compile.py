"""Compile-time work on one rule's ``when``: CEL compilation, checks, and static facts.

The CEL engine is cel-cpp (``cel-expr-python``, wrapped by :mod:`agentdeck.core.policy.cel_engine`).
Its type checker reports syntax errors, unknown variables and functions, and overloads that
cannot apply, each with a line and column; this module turns those into the one-line reasons
``policy check`` prints, and adds:

- static facts from :mod:`agentdeck.core.policy.static` (tool scope, paths read, names
  bound by macros), used for rule indexing, context projection and coverage;
- literal regular expressions (``s.matches("...")``) are compiled at registration, so an
  invalid pattern is refused with its rule and column instead of denying every call;
- the boolean check. The variables are declared as maps of ``dyn``, so ``args.flag`` types
  as ``dyn``: a ``when`` whose type is known and not ``bool`` is refused at once; a ``dyn``
  one is evaluated on representative sample contexts (every argument leaf set in turn to a
  bool, int, double, string, list and map), and refused if it yields a non-boolean value on
  some sample and a boolean on none. A ``dyn`` rule that yields a boolean on some sample is
  accepted (as cel-go's checker accepts ``dyn``); if at run time it still yields a
  non-boolean, that is an evaluation error and fails closed.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.cel_engine import CelCompileError, CelEvalError
from agentdeck.core.policy.context import ROOT_VARIABLES
from agentdeck.core.policy.static import ExprFacts, Path, Token, analyze, is_op, tokenize

#: Longest ``when`` accepted: far above any real rule, and below the nesting depth at which
#: the native parser could exhaust its stack.
MAX_EXPRESSION_CHARS = 4000
#: Most elements one list or map literal may have: the engine's checker is superlinear in
#: literal size (2,000 elements take 0.1 s), and a policy has up to 1,000 rules.
MAX_LITERAL_ITEMS = 256

# -- checks -------------------------------------------------------------------------------


class RuleCompileError(Exception):
    """A ``when`` that cannot be accepted; ``reason`` already names the column."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _where(src: str, line: int, column: int) -> str:
    return f"at column {column}" if "\n" not in src else f"at line {line}, column {column}"


def _where_offset(src: str, offset: int) -> str:
    line = src.count("\n", 0, offset) + 1
    column = offset - (src.rfind("\n", 0, offset) + 1) + 1
    return _where(src, line, column)


def _reason(src: str, tokens: list[Token], err: CelCompileError) -> str:
    where = _where(src, err.line, err.column) if err.line else ""
    if err.kind == "syntax":
        return f"syntax error: {err.message} {where}".rstrip()
    if err.kind == "undeclared":
        name = err.name.split(".")[0]
        if any(
            t.kind == "ident" and t.text == name and is_op(tokens, i + 1, "(")
            for i, t in enumerate(tokens)
        ):
            return f"unknown function {name!r} {_first_use(src, tokens, name, call=True)}"
        return (
            f"unknown variable {name!r} {_first_use(src, tokens, name, call=False)}"
            f" (known: {', '.join(ROOT_VARIABLES)})"
        )
    return f"type error: {err.message} {where}".rstrip()


def compile_when(src: str) -> tuple[Any, ExprFacts]:
    """Compile one ``when``: return the program to run and its static facts, or raise
    :class:`RuleCompileError` with a reason naming the column."""
    if len(src) > MAX_EXPRESSION_CHARS:
        raise RuleCompileError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    tokens = tokenize(src)
    _check_literals(src, tokens)
    try:
        checked = cel_engine.check(src)
    except CelCompileError as exc:
        raise RuleCompileError(_reason(src, tokens, exc)) from None
    _check_patterns(src, tokens)
    facts = analyze(src)
    program = checked.program
    if checked.result_type == "dyn":
        _check_boolean(program, facts)
    elif checked.result_type != "bool":
        raise RuleCompileError(
            f"'when' must be a boolean expression, but it yields {checked.result_type}"
        )
    return program, facts


def _check_literals(src: str, tokens: list[Token]) -> None:
    """No list or map literal (nor call) has more than :data:`MAX_LITERAL_ITEMS` elements."""
    open_at: list[int] = []  # token index of each open bracket
    items: list[int] = []
    for i, t in enumerate(tokens):
        if t.kind != "op":
            continue
        if t.text in "([{":
            open_at.append(i)
            items.append(1)
        elif t.text in ")]}" and open_at:
            open_at.pop()
            items.pop()
        elif t.text == "," and items:
            items[-1] += 1
            if items[-1] > MAX_LITERAL_ITEMS:
                start = tokens[open_at[-1]].pos
                raise RuleCompileError(
                    f"a literal or call with more than {MAX_LITERAL_ITEMS} elements "
                    f"{_where_offset(src, start)}"
                )


def _check_patterns(src: str, tokens: list[Token]) -> None:
    """Literal patterns of ``matches`` must be valid RE2 (checked once, at registration)."""
    for i, t in enumerate(tokens):
        if not (t.kind == "ident" and t.text == "matches" and is_op(tokens, i + 1, "(")):
            continue
        k = i + 2
        if not is_op(tokens, i - 1, "."):  # global form matches(text, pattern)
            depth, k = 0, i + 2
            while k < len(tokens) and not (depth == 0 and is_op(tokens, k, ",")):
                depth += tokens[k].kind == "op" and tokens[k].text in "([{"
                depth -= tokens[k].kind == "op" and tokens[k].text in ")]}"
                k += 1
            k += 1
        if k < len(tokens) and tokens[k].value is not None and is_op(tokens, k + 1, ")"):
            problem = cel_engine.regex_error(tokens[k].value or "")
            if problem:
                raise RuleCompileError(f"{problem} {_where_offset(src, tokens[k].pos)}")


def _first_use(src: str, tokens: list[Token], name: str, call: bool) -> str:
    for i, t in enumerate(tokens):
        if (
            t.kind == "ident"
            and t.text == name
            and call == is_op(tokens, i + 1, "(")
            and (call or not is_op(tokens, i - 1, "."))
        ):
            return _where_offset(src, t.pos)
    return _where(src, 1, 1)


# -- the boolean check --------------------------------------------------------------------

_SAMPLE_LEAVES: tuple[Any, ...] = (True, 1, 1.5, "sample@example.com", ["a"], {"k": "v"})
_SAMPLE_NOW = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _tree(paths: list[Path], leaf: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in sorted(paths, key=len):
        node = out
        for key in p[:-1]:
            nxt = node.get(key)
            if not isinstance(nxt, dict):
                nxt = node[key] = {}
            node = nxt
        if p and not isinstance(node.get(p[-1]), dict):
            # A copy per place: a shared dict leaf would get itself as a child when a longer
            # path descends through it (``cc`` and ``cc[each]``), which would be a cycle.
            node[p[-1]] = copy.deepcopy(leaf)
    return out


def sample_contexts(facts: ExprFacts) -> list[dict[str, Any]]:
    """Representative CEL variables for the boolean check (see the module docstring)."""
    tools = sorted(facts.tool_scope or facts.named_tools) or ["sample_tool"]
    arg_paths = [p[1:] for p in facts.paths if p[0] == "args" and len(p) > 1]
    count_keys = {p[2] for p in facts.paths if p[:2] == ("run", "counts") and len(p) > 2}
    out: list[dict[str, Any]] = []
    for leaf in _SAMPLE_LEAVES:
        args = _tree(arg_paths, leaf)
        for tool in tools[:3]:
            out.append(
                {
                    "tool": {"name": tool, "version": "1.0.0"},
                    "args": args,
                    "agent": {"name": "sample-agent", "version": 1, "digest": "sha256:" + "0" * 64},
                    "env": "production",
                    "run": {
                        "counts": {**{t: 1 for t in tools}, **{k: 1 for k in count_keys}},
                        "calls": [{"tool": t, "args": args, "outcome": "ok"} for t in tools],
                        "elapsed_s": 1.5,
                        "step": len(tools),
                        "cost_usd": 0.5,
                        "tokens": 1000,
                    },
                    "now": _SAMPLE_NOW,
                }
            )
    return out


def _check_boolean(program: Any, facts: ExprFacts) -> None:
    non_bool: str | None = None
    for variables in sample_contexts(facts):
        try:
            result = cel_engine.evaluate(program, variables)
        except CelEvalError:  # an error on made-up data says nothing about the type
            continue
        if isinstance(result, bool):
            return
        non_bool = non_bool or cel_engine.type_name(result)
    if non_bool is not None:
        raise RuleCompileError(f"'when' must be a boolean expression, but it yields {non_bool}")
