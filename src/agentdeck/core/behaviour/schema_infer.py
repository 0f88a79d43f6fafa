"""Response-schema inference (genson) and a field-level schema diff: *tool API drift*.

A tool's responses are summarized by the JSON Schema that ``genson`` infers from them (types
per field, which object keys were present in every sample). Comparing the schema inferred
from a baseline with the one inferred from a window names the fields that appeared, vanished
or changed type, which is what a silently changed tool API looks like from the agent's side.

Field paths are dotted, with ``[]`` for array items: ``results[].score``, ``order.items[].sku``,
and ``{}`` for the values of a map: ``payment_methods{}.source``; the root is ``""`` (shown as
``(root)``).

*Maps are not fields.* An object whose keys all look like identifiers (a run of three or more
digits, a UUID, a long hex token: ``credit_card_123``, ``gift_card_456``) and whose values all
have one JSON type is a map keyed by ids, not a record with fields: its keys differ from one
user to the next. Such an object is inferred as ``additionalProperties`` (the union of its
values' schemas) rather than as ``properties`` (see :func:`collapse_maps`), and the per-response
field presence (:class:`FieldPresence`) uses the same rule, so two groups of users do not
differ by the ids they happen to own. A key that itself contains ``.`` is ambiguous in this
notation (kept simple on purpose: such keys are rare in tool APIs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from genson import SchemaBuilder

from agentdeck.core.types import JSON

ROOT = ""
MAP = "{}"
_ID_KEY = re.compile(
    r"\d{3,}|^(?=[0-9a-f]*\d)[0-9a-f]{8,}$|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-", re.IGNORECASE
)


def is_id_key(key: str) -> bool:
    """Whether an object key looks like an identifier rather than a field name."""
    return _ID_KEY.search(key) is not None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return "object"


def is_map_value(value: Mapping[str, object]) -> bool:
    """A map keyed by ids: every key looks like an id and every value has one JSON type."""
    return (
        bool(value)
        and all(is_id_key(str(k)) for k in value)
        and len({_json_type(v) for v in value.values()}) == 1
    )


class ChangeKind(StrEnum):
    NEW = "new"
    MISSING = "missing"
    RETYPED = "retyped"


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What a schema says about one field path: its JSON types and whether it is required."""

    types: frozenset[str]
    required: bool


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs between two schemas.

    ``old_types``/``new_types`` are empty for a field absent on that side. ``was_required``
    tells whether a missing field was present in every baseline sample (a stronger signal than
    an optional field that happened not to occur).
    """

    path: str
    change: ChangeKind
    old_types: tuple[str, ...] = ()
    new_types: tuple[str, ...] = ()
    was_required: bool = False

    @property
    def display_path(self) -> str:
        return self.path or "(root)"

    def describe(self) -> str:
        if self.change is ChangeKind.NEW:
            return f"new field {self.display_path} ({'|'.join(self.new_types)})"
        if self.change is ChangeKind.MISSING:
            req = "required " if self.was_required else ""
            return f"missing {req}field {self.display_path} (was {'|'.join(self.old_types)})"
        return (
            f"field {self.display_path} retyped {'|'.join(self.old_types)} -> "
            f"{'|'.join(self.new_types)}"
        )


class SchemaAccumulator:
    """Streaming genson inference: add responses one by one, read the schema at any time.

    Wraps :class:`genson.SchemaBuilder` so that callers never depend on genson directly; a
    stored schema can be resumed with :meth:`from_schema`.
    """

    __slots__ = ("_builder", "count")

    def __init__(self) -> None:
        self._builder = SchemaBuilder()
        self.count = 0

    @classmethod
    def from_schema(cls, schema: Mapping[str, Any], count: int = 0) -> SchemaAccumulator:
        acc = cls()
        if schema:
            acc._builder.add_schema(dict(schema))
        acc.count = count
        return acc

    def add(self, value: JSON) -> None:
        self._builder.add_object(value)
        self.count += 1

    def schema(self) -> dict[str, Any]:
        """The inferred schema, without genson's ``$schema`` marker (draft-agnostic), maps
        collapsed (:func:`collapse_maps`)."""
        if self.count == 0:
            return {}
        out: dict[str, Any] = self._builder.to_schema()
        out.pop("$schema", None)
        return collapse_maps(out)


def _merge(schemas: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    builder = SchemaBuilder()
    for sub in schemas:
        builder.add_schema(dict(sub))
    out: dict[str, Any] = builder.to_schema()
    out.pop("$schema", None)
    return out


def _is_map_schema(props: Mapping[str, Any]) -> bool:
    if not props or not all(is_id_key(str(k)) for k in props):
        return False
    shapes = {
        frozenset(_types_of(v)) if isinstance(v, Mapping) else frozenset() for v in props.values()
    }
    return len(shapes) == 1


def collapse_maps(node: Any) -> Any:
    """``node`` with every map-shaped ``properties`` (id-like keys, one value type) replaced
    by ``additionalProperties``: the merged schema of its values. Other nodes are unchanged."""
    if not isinstance(node, Mapping):
        return node
    out = dict(node)
    for key in ("anyOf", "oneOf"):
        if isinstance(node.get(key), list):
            out[key] = [collapse_maps(b) for b in node[key]]
    items = node.get("items")
    if isinstance(items, Mapping):
        out["items"] = collapse_maps(items)
    elif isinstance(items, list):
        out["items"] = [collapse_maps(b) for b in items]
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        out["additionalProperties"] = collapse_maps(extra)
    props = node.get("properties")
    if isinstance(props, Mapping) and props:
        subs = {str(k): collapse_maps(v) for k, v in props.items()}
        if _is_map_schema(subs):
            values = list(subs.values())
            if isinstance(extra, Mapping):
                values.append(out["additionalProperties"])
            out.pop("properties")
            out.pop("required", None)
            out["additionalProperties"] = collapse_maps(_merge(values))
        else:
            out["properties"] = subs
    return out


MAX_PRESENCE_PATHS = 512


def _paths(value: Any, path: str, out: dict[str, set[str]]) -> None:
    out.setdefault(path, set()).add(_json_type(value))
    if isinstance(value, Mapping):
        if is_map_value(value):
            for v in value.values():
                _paths(v, path + MAP, out)
        else:
            for k, v in value.items():
                _paths(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, list | tuple):
        for v in value:
            _paths(v, path + "[]", out)


def response_paths(value: JSON) -> dict[str, set[str]]:
    """Every field path present in one response, with the JSON types seen there."""
    out: dict[str, set[str]] = {}
    _paths(value, ROOT, out)
    return out


class FieldPresence:
    """In how many responses each field path occurred, and with which types.

    Bounded: at most :data:`MAX_PRESENCE_PATHS` paths are tracked per tool (later new paths are
    counted in ``overflow``); maps are collapsed, so ids do not make paths.
    """

    __slots__ = ("n", "overflow", "paths", "types")

    def __init__(self) -> None:
        self.n = 0
        self.overflow = 0
        self.paths: dict[str, int] = {}
        self.types: dict[str, dict[str, int]] = {}

    def add(self, value: JSON) -> None:
        self.n += 1
        for path, types in response_paths(value).items():
            if path not in self.paths and len(self.paths) >= MAX_PRESENCE_PATHS:
                self.overflow += 1
                continue
            self.paths[path] = self.paths.get(path, 0) + 1
            counts = self.types.setdefault(path, {})
            for t in types:
                counts[t] = counts.get(t, 0) + 1

    def count(self, path: str, types: Iterable[str] | None = None) -> int:
        """Responses where ``path`` occurred (with one of ``types``, when given)."""
        if types is None:
            return self.paths.get(path, 0)
        counts = self.types.get(path, {})
        return min(sum(counts.get(t, 0) for t in set(types)), self.paths.get(path, 0))

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "overflow": self.overflow,
            "paths": dict(sorted(self.paths.items())),
            "types": {k: dict(sorted(v.items())) for k, v in sorted(self.types.items())},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FieldPresence:
        out = cls()
        out.n = int(d["n"])
        out.overflow = int(d.get("overflow", 0))
        out.paths = {str(k): int(v) for k, v in d["paths"].items()}
        out.types = {str(k): {str(t): int(c) for t, c in v.items()} for k, v in d["types"].items()}
        return out


def infer_schema(samples: Iterable[JSON]) -> dict[str, Any]:
    """The JSON Schema genson infers from ``samples`` (``{}`` for no samples)."""
    acc = SchemaAccumulator()
    for s in samples:
        acc.add(s)
    return acc.schema()


def _types_of(node: Mapping[str, Any]) -> set[str]:
    t = node.get("type")
    if isinstance(t, str):
        out = {t}
    elif isinstance(t, list):
        out = {x for x in t if isinstance(x, str)}
    else:
        out = set()
    if "properties" in node and not out:
        out.add("object")
    if "items" in node and not out:
        out.add("array")
    if "additionalProperties" in node and not out:
        out.add("object")
    return out


def _walk(node: Any, path: str, required: bool, acc: dict[str, tuple[set[str], bool]]) -> None:
    if not isinstance(node, Mapping):
        return
    for key in ("anyOf", "oneOf"):
        branches = node.get(key)
        if isinstance(branches, list):
            for b in branches:
                _walk(b, path, required, acc)
    types = _types_of(node)
    if types or path not in acc:
        prev_types, prev_req = acc.get(path, (set(), False))
        acc[path] = (prev_types | types, prev_req or required)
    props = node.get("properties")
    if isinstance(props, Mapping):
        req = set(node.get("required") or ())
        for k, sub in props.items():
            _walk(sub, f"{path}.{k}" if path else str(k), k in req, acc)
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        _walk(extra, path + MAP, False, acc)
    items = node.get("items")
    if isinstance(items, Mapping):
        _walk(items, f"{path}[]", False, acc)
    elif isinstance(items, list):
        for sub in items:
            _walk(sub, f"{path}[]", False, acc)


def flatten_schema(schema: Mapping[str, Any]) -> dict[str, FieldInfo]:
    """Every field path of a (genson-style) schema with its types and required flag.

    ``anyOf``/``oneOf`` branches merge into one path (their types are united); an empty
    schema flattens to ``{}``.
    """
    if not schema:
        return {}
    acc: dict[str, tuple[set[str], bool]] = {}
    _walk(schema, ROOT, True, acc)
    return {p: FieldInfo(frozenset(t), r) for p, (t, r) in acc.items()}


def parent_path(path: str) -> str | None:
    """The enclosing field path (``a.b[]`` for ``a.b[].c``), ``None`` for the root."""
    if path == ROOT:
        return None
    if path.endswith("[]") or path.endswith(MAP):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ROOT


def schema_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    """Fields that are new, missing or retyped in ``new`` compared with ``old``.

    Only the topmost change of a subtree is reported: a renamed object ``order`` ->
    ``purchase`` yields ``missing order`` and ``new purchase``, not every field below them,
    and a retyped field hides the changes below it.
    An empty schema on either side (no samples) yields no changes: nothing to compare.
    Changes are ordered by path, missing and retyped before new at equal paths.
    """
    a, b = flatten_schema(old), flatten_schema(new)
    if not a or not b:
        return []
    out: list[FieldChange] = []
    reported: set[str] = set()
    for path in sorted(a.keys() | b.keys()):  # a parent sorts before its children
        parent = parent_path(path)
        if parent is not None and (parent in reported or parent not in a or parent not in b):
            if parent in reported:
                reported.add(path)
            continue
        change: FieldChange | None = None
        if path in a and path in b:
            ta, tb = a[path].types, b[path].types
            if ta != tb:
                change = FieldChange(
                    path, ChangeKind.RETYPED, tuple(sorted(ta)), tuple(sorted(tb)), a[path].required
                )
        elif path in a:
            change = FieldChange(
                path, ChangeKind.MISSING, tuple(sorted(a[path].types)), (), a[path].required
            )
        else:
            change = FieldChange(path, ChangeKind.NEW, (), tuple(sorted(b[path].types)))
        if change is not None:
            out.append(change)
            reported.add(path)
    return out
