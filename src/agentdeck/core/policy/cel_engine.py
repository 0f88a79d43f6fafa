"""The CEL engine behind policies: Google's cel-cpp through ``cel-expr-python``.

Why this engine (measured in bench/cel_engines_bench.py against the cel-rust bindings
``common-expression-language``): cel-cpp is CEL's reference C++ implementation, run against
the CEL conformance suite; it has a real type checker (unknown names, wrong overloads and
the result type are found at compile time, with line and column); it reads Python dicts and
lists lazily instead of converting every value up front; and one evaluation costs about
1.5 us against 5-40 us for cel-rust on the same policy context.

One thing is replaced: the standard ``matches`` builds its RE2 program on every evaluation
(4-25 us per call in cel-cpp, about 40 us in cel-rust). Rules keep writing
``s.matches(re)`` / ``matches(s, re)``; the program that *runs* calls the same function
under another name, backed by the same RE2 engine (``google-re2``) with compiled patterns
cached, so results are those of the standard function, at about 2 us. Type checking and
every error message use the text as written.

This is the only module that imports the engine. The environment is built on first use,
not at import, and is shared (cel-cpp environments and compiled expressions are safe to use
from several threads).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from agentdeck.core.policy.static import is_op, tokenize

__all__ = [
    "CelCompileError",
    "CelEvalError",
    "Checked",
    "check",
    "compile_for_eval",
    "evaluate",
    "evaluate_list",
    "regex_error",
    "standard_program",
    "type_name",
]

#: The name the runtime program uses for ``matches`` (see the module docstring).
FAST_MATCHES = "agentdeckRe2Matches"

#: Variables every rule may read, and their declared CEL types.
_VARIABLE_TYPES = {
    "tool": "map",
    "args": "map",
    "agent": "map",
    "env": "string",
    "run": "map",
    "now": "timestamp",
}


class CelCompileError(Exception):
    """An expression the engine refused. ``kind`` is ``syntax``, ``undeclared`` or ``type``;
    ``line``/``column`` are 1-based (0 when the engine gave no position)."""

    def __init__(self, kind: str, message: str, line: int, column: int, name: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.name = name


class CelEvalError(Exception):
    """An evaluation that produced a CEL error value (missing key, overflow, bad regex...)."""


@dataclass(frozen=True)
class Checked:
    """A type-checked expression: its result type (``bool``, ``dyn``, ``int``...), and the
    program that runs it (see :func:`compile_for_eval`)."""

    source: str
    result_type: str
    program: Any


# -- regular expressions: RE2, compiled once per pattern ----------------------------------

_REGEX_CACHE_MAX = 512
_regex_cache: OrderedDict[str, Any] = OrderedDict()
_regex_lock = threading.Lock()


def _regex(pattern: str) -> Any:
    hit = _regex_cache.get(pattern)
    if hit is not None:
        return hit
    # google-re2's low-level binding (the ``re2`` module's Python wrapper adds ~3 us a call
    # in offset bookkeeping that a yes/no search does not need).
    from re2 import _re2

    options = _re2.RE2.Options()
    options.log_errors = False  # an invalid pattern is an evaluation error, not a log line
    options.never_capture = True  # only "is there a match" is asked
    compiled = _re2.RE2(pattern.encode("utf-8"), options)
    if not compiled.ok():
        detail = compiled.error().decode("utf-8", "replace")
        raise ValueError(f"invalid regular expression: {detail}")
    with _regex_lock:
        _regex_cache[pattern] = compiled
        while len(_regex_cache) > _REGEX_CACHE_MAX:
            _regex_cache.popitem(last=False)
    return compiled


_UNANCHORED: Any = None

# Answers for short texts, by (pattern, text). RE2's binding releases the GIL for every
# match, which is polite for long texts, but in a busy process each release hands the GIL to
# another thread (the telemetry exporter, say) and costs tens of microseconds to get it back;
# policy texts (recipients, ids) repeat, so most matches are answered here without RE2.
_ANSWERS: dict[tuple[str, str], bool] = {}
_ANSWERS_MAX = 4096
_ANSWER_TEXT_MAX = 256


def _matches(text: str, pattern: str) -> bool:
    """CEL's ``matches``: does RE2 find ``pattern`` anywhere in ``text``."""
    global _UNANCHORED
    short = len(text) <= _ANSWER_TEXT_MAX
    if short:
        hit = _ANSWERS.get((pattern, text))
        if hit is not None:
            return hit
    regexp = _regex(pattern)
    if _UNANCHORED is None:
        from re2 import _re2

        _UNANCHORED = _re2.RE2.Anchor.UNANCHORED
    data = text.encode("utf-8")
    found = bool(regexp.Match(_UNANCHORED, data, 0, len(data))[0][0] >= 0)
    if short:
        if len(_ANSWERS) >= _ANSWERS_MAX:
            try:
                del _ANSWERS[next(iter(_ANSWERS))]  # the oldest answer goes
            except (StopIteration, KeyError, RuntimeError):
                _ANSWERS.clear()
        _ANSWERS[(pattern, text)] = found
    return found


def regex_error(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid RE2 expression, or None when it is."""
    try:
        _regex(pattern)
    except ValueError as exc:
        return str(exc)
    return None


# -- the environment ----------------------------------------------------------------------

_env: Any = None
_env_lock = threading.Lock()
_error_type: Any = None


def _environment() -> Any:
    global _env, _error_type
    if _env is not None:
        return _env
    with _env_lock:
        if _env is None:
            from cel_expr_python import cel
            from cel_expr_python.ext.ext_optional import ExtOptional
            from cel_expr_python.ext.ext_strings import ExtStrings

            types = {
                "map": cel.Type.Map(cel.Type.STRING, cel.Type.DYN),
                "string": cel.Type.STRING,
                "timestamp": cel.Type.TIMESTAMP,
            }
            string, boolean = cel.Type.STRING, cel.Type.BOOL
            fast = cel.CelExtension(
                "agentdeck_re2",
                [
                    cel.FunctionDecl(
                        FAST_MATCHES,
                        [
                            cel.Overload(
                                "agentdeck_re2_member",
                                boolean,
                                [string, string],
                                is_member=True,
                                impl=_matches,
                            ),
                            cel.Overload(
                                "agentdeck_re2_global",
                                boolean,
                                [string, string],
                                is_member=False,
                                impl=_matches,
                            ),
                        ],
                    )
                ],
            )
            _error_type = cel.Type.ERROR
            _env = cel.NewEnv(
                variables={k: types[v] for k, v in _VARIABLE_TYPES.items()},
                extensions=[ExtStrings(), ExtOptional(), fast],
            )
    return _env


# -- compiling ----------------------------------------------------------------------------

_POS_RE = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")
_UNDECLARED_RE = re.compile(r"undeclared reference to '([^']*)'")
# absl status decoration around a message: "CANCELLED: ... [CANCELLED]", "ERROR: <input>:-1:-1: "
_STATUS_RE = re.compile(r"^(?:[A-Z_]+: )+(?:<input>:-?\d+:-?\d+: )?|\s*\[[A-Z_]+\]$")


def _compile_error(message: str) -> CelCompileError:
    found = [m for m in (_POS_RE.search(x) for x in message.splitlines()) if m]
    if not found:  # no position (e.g. nesting beyond the parser's limit): the message alone
        first = message.splitlines()[0] if message else "unparseable"
        first = _STATUS_RE.sub("", first)
        return CelCompileError("syntax", first or "unparseable", 0, 0)
    best = next((m for m in found if "Syntax error" in m.group(3)), found[0])
    line, column, text = int(best.group(1)), int(best.group(2)), best.group(3)
    if "Syntax error" in text:
        text = re.sub(r"^Syntax error:\s*", "", text)
        text = re.sub(r"expecting \{[^}]{60,}\}", "expecting an operand", text)
        return CelCompileError("syntax", text, line, column)
    undeclared = _UNDECLARED_RE.search(text)
    if undeclared:
        name = undeclared.group(1)
        return CelCompileError("undeclared", text, line, column, name)
    return CelCompileError("type", text, line, column)


def _compile(src: str) -> Any:
    try:
        return _environment().compile(src)
    except RuntimeError as exc:
        raise _compile_error(str(exc)) from None


def check(src: str) -> Checked:
    """Parse and type-check ``src`` as written, and compile the program that runs it (the same
    expression unless it calls ``matches``); raise :class:`CelCompileError`."""
    expr = _compile(src)
    fast = _fast_matches(src)
    program = expr if fast == src else _compile(fast)
    return Checked(src, _type_name(expr.return_type()), program)


def standard_program(src: str) -> Any:
    """``src`` compiled as written, with the engine's own ``matches`` (to compare with)."""
    return _compile(src)


def compile_for_eval(src: str) -> Any:
    """The program that runs: ``src`` with ``matches`` calls sent to the cached RE2 function.
    ``src`` must already have passed :func:`check`."""
    return _compile(_fast_matches(src))


def _fast_matches(src: str) -> str:
    tokens = tokenize(src)
    out: list[str] = []
    last = 0
    for i, t in enumerate(tokens):
        if t.kind == "ident" and t.text == "matches" and is_op(tokens, i + 1, "("):
            out.append(src[last : t.pos])
            out.append(FAST_MATCHES)
            last = t.pos + len(t.text)
    if not out:
        return src
    out.append(src[last:])
    return "".join(out)


# -- evaluating ---------------------------------------------------------------------------


def evaluate(program: Any, data: Any) -> Any:
    """Run a compiled program on ``data`` (a dict of variables, or an activation) and return
    its value as plain Python; raise :class:`CelEvalError` on a CEL error value."""
    value = program.eval(data=data) if isinstance(data, dict) else program.eval(data)
    out = value.value()
    if type(out) is bool:
        return out
    if value.type() == _error_type:
        raise CelEvalError(str(out))
    return value.plain_value()


def evaluate_list(program: Any, data: dict[str, Any]) -> list[Any] | None:
    """Run a program that builds a list (several rules at once): the plain list, or None
    when any element errored (the whole list is then a CEL error)."""
    value = program.eval(data=data)
    if value.type() == _error_type:
        return None
    out: list[Any] = value.plain_value()
    return out


def _type_name(cel_type: Any) -> str:
    name = str(cel_type.name()).lower()
    return {"int64": "int", "uint64": "uint"}.get(name, name)


_PY_TYPES = {"int": "int", "float": "double", "str": "string", "list": "list", "dict": "map",
             "bytes": "bytes", "NoneType": "null", "datetime": "timestamp",
             "timedelta": "duration"}  # fmt: skip


def type_name(value: Any) -> str:
    """The CEL type name of a plain evaluation result (for messages)."""
    name = type(value).__name__
    return _PY_TYPES.get(name, name)
