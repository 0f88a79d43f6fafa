"""Compile-time work on one rule's ``when``: CEL compilation, checks, and static facts.

The CEL engine is ``common-expression-language`` (cel-rust bindings, import name ``cel``).
It parses and evaluates, and reports the variables and functions an expression references,
but it has no type checker and exposes no syntax tree. So this module adds, on top of it:

- static facts from :mod:`agentdeck.core.policy_static` (tool scope, paths read, names
  bound by macros), used for rule indexing, context projection and coverage;
- the checks ``policy check`` reports: syntax errors (with the engine's line and column),
  unknown variables and unknown functions (with the column of their first use), and a
  ``when`` that is not boolean. Without a type checker, the boolean check evaluates the
  expression on representative sample contexts (every argument leaf set in turn to a
  bool, int, double, string, list and map): a rule that yields a non-boolean value on some
  sample and a boolean on none is refused. A rule that yields a boolean on some sample is
  accepted (like ``dyn`` in cel-go's checker); if at run time it still yields a non-boolean,
  that is an evaluation error and fails closed.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

import cel

from agentdeck.core.policy_context import ROOT_VARIABLES
from agentdeck.core.policy_static import ExprFacts, Path, Token, analyze, is_op, tokenize

#: Longest ``when`` accepted: far above any real rule, and below the nesting depth at which
#: the native parser or evaluator could exhaust its stack.
MAX_EXPRESSION_CHARS = 4000

#: Functions of the cel-rust standard library (tests check each one runs on this install).
KNOWN_FUNCTIONS = frozenset(
    {
        "size", "contains", "startsWith", "endsWith", "matches",
        "string", "bytes", "int", "uint", "double", "type", "dyn",
        "duration", "timestamp",
        "getFullYear", "getMonth", "getDayOfYear", "getDayOfMonth", "getDate", "getDayOfWeek",
        "getHours", "getMinutes", "getSeconds", "getMilliseconds",
        "of", "none", "ofNonZeroValue", "value", "hasValue", "or", "orValue",
    }
)  # fmt: skip

#: Identifiers CEL itself defines: type names, and the ``optional`` namespace.
BUILTIN_NAMES = frozenset(
    {
        "int",
        "uint",
        "double",
        "bool",
        "string",
        "bytes",
        "list",
        "map",
        "null_type",
        "type",
        "optional",
    }
)

# -- checks -------------------------------------------------------------------------------


class RuleCompileError(Exception):
    """A ``when`` that cannot be accepted; ``reason`` already names the column."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_POS_RE = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _where(src: str, line: int, column: int) -> str:
    return f"at column {column}" if "\n" not in src else f"at line {line}, column {column}"


def _where_offset(src: str, offset: int) -> str:
    line = src.count("\n", 0, offset) + 1
    column = offset - (src.rfind("\n", 0, offset) + 1) + 1
    return _where(src, line, column)


def _syntax_reason(src: str, message: str) -> str:
    found = [m for m in (_POS_RE.search(x) for x in message.splitlines()) if m]
    if not found:
        return f"syntax error: {message.splitlines()[0] if message else 'unparseable'}"
    best = next((m for m in found if "Syntax error" in m.group(3)), found[0])
    text = re.sub(r"^Syntax error:\s*", "", best.group(3))
    text = re.sub(r"expecting \{[^}]{60,}\}", "expecting an operand", text)
    return f"syntax error: {text} {_where(src, int(best.group(1)), int(best.group(2)))}"


def compile_when(src: str) -> tuple[Any, ExprFacts]:
    """Compile one ``when``: return the ``cel.Program`` and its static facts, or raise
    :class:`RuleCompileError` with a reason naming the column."""
    if len(src) > MAX_EXPRESSION_CHARS:
        raise RuleCompileError(f"expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        program = cel.compile(src)
        refs = program.references()
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # the native parser may raise a PanicException (BaseException)
        raise RuleCompileError(_syntax_reason(src, str(exc))) from None
    facts = analyze(src)
    tokens = tokenize(src)
    allowed = set(ROOT_VARIABLES) | BUILTIN_NAMES | facts.bound
    for name in refs["variables"]:
        if name not in allowed:
            raise RuleCompileError(
                f"unknown variable {name!r} {_first_use(src, tokens, name, call=False)}"
                f" (known: {', '.join(ROOT_VARIABLES)})"
            )
    for name in refs["functions"]:
        if name[:1] in "_@!" or name in KNOWN_FUNCTIONS:
            continue
        raise RuleCompileError(
            f"unknown function {name!r} {_first_use(src, tokens, name, call=True)}"
        )
    _check_boolean(program, facts)
    return program, facts


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
            # path descends through it (``cc`` and ``cc[each]``), a cycle cel-rust crashes on.
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
                    },
                    "now": _SAMPLE_NOW,
                }
            )
    return out


def _check_boolean(program: Any, facts: ExprFacts) -> None:
    non_bool: str | None = None
    for variables in sample_contexts(facts):
        try:
            result = program.execute(variables)
        except Exception:  # an error on made-up data says nothing about the type
            continue
        if isinstance(result, bool):
            return
        non_bool = non_bool or cel_type_name(result)
    if non_bool is not None:
        raise RuleCompileError(f"'when' must be a boolean expression, but it yields {non_bool}")


_CEL_TYPES = {"int": "int", "float": "double", "str": "string", "list": "list", "dict": "map",
              "bytes": "bytes", "NoneType": "null", "datetime": "timestamp", "timedelta": "duration"}  # fmt: skip


def cel_type_name(value: Any) -> str:
    """The CEL type name of an evaluation result (for messages)."""
    name = type(value).__name__
    return _CEL_TYPES.get(name, name)
