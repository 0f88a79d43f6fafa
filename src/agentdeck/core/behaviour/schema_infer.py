"""Response-schema inference (genson) and a field-level schema diff: *tool API drift*.

A tool's responses are summarized by the JSON Schema that ``genson`` infers from them (types
per field, which object keys were present in every sample). Comparing the schema inferred
from a baseline with the one inferred from a window names the fields that appeared, vanished
or changed type, which is what a silently changed tool API looks like from the agent's side.

Field paths are dotted, with ``[]`` for array items: ``results[].score``, ``order.items[].sku``;
the root is ``""`` (shown as ``(root)``). A key that itself contains ``.`` is ambiguous in this
notation (kept simple on purpose: such keys are rare in tool APIs).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from genson import SchemaBuilder

from agentdeck.core.types import JSON

ROOT = ""


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
        """The inferred schema, without genson's ``$schema`` marker (draft-agnostic)."""
        if self.count == 0:
            return {}
        out: dict[str, Any] = self._builder.to_schema()
        out.pop("$schema", None)
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
    if path.endswith("[]"):
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
