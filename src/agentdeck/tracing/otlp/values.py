"""OTLP attribute values <-> JSON data, and the lenient JSON codec the OTLP mapping uses.

OTLP carries attribute values as ``AnyValue`` (scalars, arrays, key-value lists); agentdeck
carries JSON. Structured GenAI attributes (messages, tool arguments) travel as JSON *strings*,
because most backends only index scalar attributes, and because that is what the official
instrumentations send. ``orjson`` does the JSON work: it is a project dependency and several
times faster than the standard library on the decode path.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from agentdeck.core.types import JSON

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
SCALAR_FIELDS = frozenset({"string_value", "int_value", "bool_value", "double_value"})


def dumps(value: JSON) -> str:
    """JSON text of ``value``; falls back to the standard library for what orjson refuses
    (integers past 64 bits, non-string keys), turning unknown objects into strings."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, default=str, ensure_ascii=False)


def loads_or_raw(value: JSON) -> JSON:
    """Parse ``value`` if it is a JSON string; a non-JSON string or a structured value is
    returned unchanged (GenAI allows both "structured, or a JSON string")."""
    if not isinstance(value, str):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        return value


def loads_if_json(value: JSON) -> JSON:
    """Like :func:`loads_or_raw`, but only tries strings that look like a JSON object or
    array: free text such as ``"42"`` or ``"true"`` stays text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        return loads_or_raw(value)
    return value


# --- protobuf AnyValue -> JSON -------------------------------------------------------------


def from_any_value(v: AnyValue) -> JSON:
    """The JSON value an ``AnyValue`` holds (bytes become base64 text, an empty value None)."""
    which = v.WhichOneof("value")
    if which in SCALAR_FIELDS:
        return getattr(v, which)
    if which == "array_value":
        return [from_any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: from_any_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return None


def from_key_values(kvs: Any) -> dict[str, JSON]:
    """A repeated ``KeyValue`` field as a dict; the scalar case is inlined because this loop
    runs once per attribute of every decoded span."""
    out: dict[str, JSON] = {}
    scalars = SCALAR_FIELDS
    for kv in kvs:
        v = kv.value
        which = v.WhichOneof("value")
        out[kv.key] = getattr(v, which) if which in scalars else from_any_value(v)
    return out


# --- JSON -> protobuf AnyValue -------------------------------------------------------------


def set_any_value(out: AnyValue, value: JSON) -> None:
    """Write ``value`` into ``out``. Integers past int64 go as their decimal text (OTLP has
    no wider integer); None leaves the value empty; anything not JSON goes as ``str()``."""
    if value is None:
        return
    if isinstance(value, bool):
        out.bool_value = value
    elif isinstance(value, int):
        if _INT64_MIN <= value <= _INT64_MAX:
            out.int_value = value
        else:
            out.string_value = str(value)
    elif isinstance(value, float):
        out.double_value = value
    elif isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, list | tuple):
        values = out.array_value.values
        for item in value:
            set_any_value(values.add(), item)
        if not value:
            out.array_value.SetInParent()
    elif isinstance(value, dict):
        kvs = out.kvlist_value.values
        for key, item in value.items():
            kv = kvs.add()
            kv.key = str(key)
            set_any_value(kv.value, item)
        if not value:
            out.kvlist_value.SetInParent()
    else:
        out.string_value = str(value)


def add_attribute(attrs: Any, key: str, value: JSON) -> None:
    """Append ``key=value`` to a repeated ``KeyValue`` field."""
    kv: KeyValue = attrs.add()
    kv.key = key
    set_any_value(kv.value, value)


# --- OTLP/JSON AnyValue -> JSON ------------------------------------------------------------


class ValueProblem(ValueError):
    """An OTLP/JSON value of the wrong shape; ``path`` names it inside its span."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def _field(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def from_json_any_value(v: Any, path: str) -> JSON:
    """The JSON value an OTLP/JSON ``AnyValue`` object holds (protobuf JSON mapping: int64 as
    a decimal string or number, camelCase or snake_case field names)."""
    if not isinstance(v, dict):
        raise ValueProblem(path, "expected an AnyValue object")
    s = v.get("stringValue")
    if isinstance(s, str):
        return s
    for camel, snake in (
        ("stringValue", "string_value"),
        ("boolValue", "bool_value"),
        ("intValue", "int_value"),
        ("doubleValue", "double_value"),
        ("arrayValue", "array_value"),
        ("kvlistValue", "kvlist_value"),
        ("bytesValue", "bytes_value"),
    ):
        raw = _field(v, camel, snake)
        if raw is None:
            continue
        if camel == "stringValue" or camel == "bytesValue":
            if not isinstance(raw, str):
                raise ValueProblem(f"{path}.{camel}", "expected a string")
            return raw
        if camel == "boolValue":
            if not isinstance(raw, bool):
                raise ValueProblem(f"{path}.{camel}", "expected true or false")
            return raw
        if camel == "intValue":
            return json_int(raw, f"{path}.{camel}")
        if camel == "doubleValue":
            return json_float(raw, f"{path}.{camel}")
        values = raw.get("values", []) if isinstance(raw, dict) else None
        if not isinstance(values, list):
            raise ValueProblem(f"{path}.{camel}", "expected an object with a 'values' list")
        if camel == "arrayValue":
            return [
                from_json_any_value(x, f"{path}.{camel}.values[{i}]") for i, x in enumerate(values)
            ]
        return from_json_key_values(values, f"{path}.{camel}.values")
    return None


def from_json_key_values(kvs: Any, path: str) -> dict[str, JSON]:
    """An OTLP/JSON list of ``{"key": ..., "value": {...}}`` as a dict."""
    if not isinstance(kvs, list):
        raise ValueProblem(path, "expected a list of key-value objects")
    out: dict[str, JSON] = {}
    for i, kv in enumerate(kvs):
        if not isinstance(kv, dict) or not isinstance(kv.get("key"), str):
            raise ValueProblem(f"{path}[{i}]", "expected an object with a string 'key'")
        value = kv.get("value")
        out[kv["key"]] = None if value is None else from_json_any_value(value, f"{path}[{i}].value")
    return out


def json_int(raw: Any, path: str) -> int:
    """An int64 field of the protobuf JSON mapping: a number or its decimal text."""
    if isinstance(raw, bool):
        raise ValueProblem(path, "expected an integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(raw)
        except ValueError:
            pass
    raise ValueProblem(path, f"expected an integer, got {str(raw)[:40]!r}")


def json_float(raw: Any, path: str) -> float:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    if raw in ("NaN", "Infinity", "-Infinity"):
        return float(raw)
    raise ValueProblem(path, f"expected a number, got {str(raw)[:40]!r}")
