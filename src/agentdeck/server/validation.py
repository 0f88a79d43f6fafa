"""Input bounds at the HTTP boundary: what the store can hold, checked before it is asked to.

Integers that reach a database column are 64-bit (:data:`INT64_MAX`); JSON values stored whole
(span attributes, approval arguments, gate settings, spec documents) are at most
:data:`MAX_JSON_DEPTH` levels deep and hold only integers inside the 64-bit range, because
deeper or larger values fail in the JSON writer or the database instead of answering 4xx.

- :data:`Int64`, :data:`Version`, :data:`JsonObject`: pydantic types for request models.
- :func:`json_problem`: the first problem in a JSON value, as ``"path: reason"``, or ``None``.
- :func:`check_batch`: refuses a batch of runs and spans (ingest, OTLP) with an
  :class:`~agentdeck.core.errors.InputError` naming the element and field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from agentdeck.core.errors import InputError
from agentdeck.core.spec.refs import MAX_VERSION
from agentdeck.core.trace.model import Run, Span

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_JSON_DEPTH",
    "MAX_VERSION",
    "Int64",
    "JsonObject",
    "Version",
    "check_batch",
    "json_problem",
]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Nesting a stored JSON value may have (orjson refuses to write past 254 levels).
MAX_JSON_DEPTH = 64

Int64 = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Version = Annotated[int, Field(ge=1, le=MAX_VERSION)]


def json_problem(value: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """The first value that cannot be stored as JSON, as ``"a.b[2]: reason"`` (``""`` for the
    value itself), or ``None`` when every integer fits 64 bits and nesting is within bounds."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str | float):
            continue
        if isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                return f"{path or '(value)'}: integer outside the 64-bit range"
            continue
        if isinstance(item, dict | list | tuple):
            if depth >= max_depth:
                return f"{path or '(value)'}: nested deeper than {max_depth} levels"
            if isinstance(item, dict):
                for k, v in item.items():
                    if not isinstance(v, str | bool | float) and v is not None:
                        stack.append((v, f"{path}.{k}" if path else str(k), depth + 1))
            else:
                for i, v in enumerate(item):
                    if not isinstance(v, str | bool | float) and v is not None:
                        stack.append((v, f"{path}[{i}]", depth + 1))
    return None


def _storable(value: dict[str, Any]) -> dict[str, Any]:
    problem = json_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


#: A JSON object a request stores or evaluates whole: bounded depth, 64-bit integers.
JsonObject = Annotated[dict[str, Any], AfterValidator(_storable)]


def _int_field(where: str, name: str, value: int | None) -> None:
    if value is not None and not INT64_MIN <= value <= INT64_MAX:
        raise InputError(f"{where}.{name}: {value} is outside the 64-bit integer range")


def _json_field(where: str, name: str, value: Any) -> None:
    problem = json_problem(value)
    if problem is not None:
        raise InputError(f"{where}.{name}: {problem}")


#: Text columns of the runs and spans tables with their lengths (None: unbounded). Every text
#: a database stores must be free of NUL characters (PostgreSQL refuses them).
_SPAN_TEXT = {"name": 300, "tool_name": 128, "error": None}
_RUN_TEXT = {"agent_name": 100, "agent_digest": 80, "env": 60, "deployment_id": 32, "error": None}


def _text_field(where: str, name: str, value: Any, limit: int | None) -> None:
    if not isinstance(value, str):
        return
    if limit is not None and len(value) > limit:
        raise InputError(f"{where}.{name}: longer than {limit} characters")
    if "\x00" in value:
        raise InputError(f"{where}.{name}: contains a NUL character")


def check_batch(runs: Sequence[Run], spans: Sequence[Span], where: str = "body") -> None:
    """Refuse a batch the store cannot hold: a time, sequence number, version or token count
    outside 64 bits, a stored JSON value too deep or with such an integer, or a text column
    value too long or holding a NUL character."""
    for i, s in enumerate(spans):
        at = f"{where}.spans[{i}]"
        for name, limit in _SPAN_TEXT.items():
            _text_field(at, name, getattr(s, name), limit)
        for name in ("start_ns", "end_ns", "seq"):
            _int_field(at, name, getattr(s, name))
        if s.usage is not None:
            for name in ("input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens"):
                _int_field(f"{at}.usage", name, getattr(s.usage, name))
        for name in ("inputs", "outputs", "attributes"):
            _json_field(at, name, getattr(s, name))
    for i, r in enumerate(runs):
        at = f"{where}.runs[{i}]"
        for name, limit in _RUN_TEXT.items():
            _text_field(at, name, getattr(r, name), limit)
        for name in ("start_ns", "end_ns", "agent_version"):
            _int_field(at, name, getattr(r, name))
        for name in ("input", "output", "attributes"):
            _json_field(at, name, getattr(r, name))
