"""The one semantic diff between two agent specs.

It answers "what changed between the last known-good deployment and this one?": model id or
provider, each model parameter, the prompt as a unified text diff, tools added / removed /
changed (description, version, and each JSON Schema field added, removed or retyped, and
required-ness), the pinned policy, runtime and metadata keys, the entrypoint.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agentdeck.core.spec.agent import AgentSpec, ToolSpec


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    """One change at ``path`` (e.g. ``model.params.temperature``, ``tools.issue_refund.input_schema.amount``)."""

    section: str  # model | prompt | tools | policy | runtime | metadata | entrypoint | name
    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "path": self.path,
            "kind": self.kind.value,
            "before": self.before,
            "after": self.after,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class AgentDiff:
    a_ref: str
    b_ref: str
    a_digest: str
    b_digest: str
    changes: tuple[Change, ...]
    prompt_diff: tuple[str, ...] = field(default=())

    @property
    def identical(self) -> bool:
        return not self.changes

    def sections(self) -> list[str]:
        seen: list[str] = []
        for c in self.changes:
            if c.section not in seen:
                seen.append(c.section)
        return seen

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": {"ref": self.a_ref, "digest": self.a_digest},
            "b": {"ref": self.b_ref, "digest": self.b_digest},
            "identical": self.identical,
            "changes": [c.to_dict() for c in self.changes],
            "prompt_diff": list(self.prompt_diff),
        }


def _mapping_changes(
    section: str, prefix: str, a: Mapping[str, Any], b: Mapping[str, Any]
) -> list[Change]:
    out: list[Change] = []
    for key in sorted(set(a) | set(b)):
        path = f"{prefix}.{key}" if prefix else key
        if key not in a:
            out.append(Change(section, path, ChangeKind.ADDED, after=b[key]))
        elif key not in b:
            out.append(Change(section, path, ChangeKind.REMOVED, before=a[key]))
        elif a[key] != b[key]:
            if isinstance(a[key], Mapping) and isinstance(b[key], Mapping):
                out.extend(_mapping_changes(section, path, a[key], b[key]))
            else:
                out.append(Change(section, path, ChangeKind.CHANGED, before=a[key], after=b[key]))
    return out


def _schema_type(schema: Mapping[str, Any]) -> Any:
    t = schema.get("type")
    if t is None and "enum" in schema:
        return "enum"
    if t is None and ("anyOf" in schema or "oneOf" in schema):
        return "union"
    return t


def _flatten_schema(
    schema: Mapping[str, Any] | None, prefix: str = ""
) -> dict[str, dict[str, Any]]:
    """Field path -> {type, required, rest} for every property of a JSON Schema, recursively
    through nested objects and arrays of objects (``items[]``)."""
    out: dict[str, dict[str, Any]] = {}
    if not schema:
        return out
    required = set(schema.get("required") or [])
    for name, sub in (schema.get("properties") or {}).items():
        if not isinstance(sub, Mapping):
            continue
        path = f"{prefix}{name}"
        rest = {
            k: v
            for k, v in sub.items()
            if k not in ("properties", "required", "items", "type", "description")
        }
        out[path] = {"type": _schema_type(sub), "required": name in required, "rest": rest}
        if sub.get("type") == "object" or "properties" in sub:
            out.update(_flatten_schema(sub, f"{path}."))
        items = sub.get("items")
        if isinstance(items, Mapping) and (items.get("type") == "object" or "properties" in items):
            out.update(_flatten_schema(items, f"{path}[]."))
    return out


_FIELD_ASPECTS = (
    ("type", "type changed"),
    ("required", "required changed"),
    ("rest", "constraints changed"),
)


def schema_changes(
    section: str, prefix: str, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None
) -> list[Change]:
    """Field-by-field changes between two JSON Schemas."""
    if a is None and b is None:
        return []
    if a is None:
        return [Change(section, prefix, ChangeKind.ADDED, detail="schema added")]
    if b is None:
        return [Change(section, prefix, ChangeKind.REMOVED, detail="schema removed")]
    fa, fb = _flatten_schema(a), _flatten_schema(b)
    out: list[Change] = []
    for path in sorted(set(fa) | set(fb)):
        full = f"{prefix}.{path}"
        if path not in fa:
            out.append(
                Change(
                    section,
                    full,
                    ChangeKind.ADDED,
                    after=fb[path]["type"],
                    detail="field added" + (" (required)" if fb[path]["required"] else ""),
                )
            )
        elif path not in fb:
            out.append(
                Change(
                    section,
                    full,
                    ChangeKind.REMOVED,
                    before=fa[path]["type"],
                    detail="field removed",
                )
            )
        else:
            x, y = fa[path], fb[path]
            for key, detail in _FIELD_ASPECTS:
                if x[key] != y[key]:
                    out.append(
                        Change(section, full, ChangeKind.CHANGED, x[key], y[key], detail=detail)
                    )
    # top-level keywords that are not properties (e.g. additionalProperties, top-level type)
    top_a = {k: v for k, v in a.items() if k not in ("properties", "required", "description")}
    top_b = {k: v for k, v in b.items() if k not in ("properties", "required", "description")}
    if top_a != top_b and not out:
        out.append(
            Change(
                section,
                prefix,
                ChangeKind.CHANGED,
                before=top_a,
                after=top_b,
                detail="schema changed",
            )
        )
    return out


def _tool_changes(a: ToolSpec, b: ToolSpec) -> list[Change]:
    base = f"tools.{a.name}"
    out: list[Change] = []
    if a.description != b.description:
        out.append(
            Change("tools", f"{base}.description", ChangeKind.CHANGED, a.description, b.description)
        )
    if a.version != b.version:
        out.append(Change("tools", f"{base}.version", ChangeKind.CHANGED, a.version, b.version))
    out.extend(schema_changes("tools", f"{base}.input_schema", a.input_schema, b.input_schema))
    out.extend(schema_changes("tools", f"{base}.output_schema", a.output_schema, b.output_schema))
    return out


def diff_specs(a: AgentSpec, b: AgentSpec, a_ref: str = "a", b_ref: str = "b") -> AgentDiff:
    """The semantic diff from ``a`` to ``b``."""
    changes: list[Change] = []
    if a.name != b.name:
        changes.append(Change("name", "name", ChangeKind.CHANGED, a.name, b.name))
    if a.model.provider != b.model.provider:
        changes.append(
            Change(
                "model", "model.provider", ChangeKind.CHANGED, a.model.provider, b.model.provider
            )
        )
    if a.model.id != b.model.id:
        changes.append(Change("model", "model.id", ChangeKind.CHANGED, a.model.id, b.model.id))
    changes.extend(_mapping_changes("model", "model.params", a.model.params, b.model.params))
    prompt_diff: tuple[str, ...] = ()
    if a.system_prompt != b.system_prompt:
        prompt_diff = tuple(
            difflib.unified_diff(
                a.system_prompt.splitlines(),
                b.system_prompt.splitlines(),
                f"{a_ref}/system_prompt",
                f"{b_ref}/system_prompt",
                lineterm="",
            )
        )
        changes.append(
            Change(
                "prompt",
                "system_prompt",
                ChangeKind.CHANGED,
                a.prompt_digest,
                b.prompt_digest,
                detail=f"{len(prompt_diff)} diff lines",
            )
        )
    ta = {t.name: t for t in a.tools}
    tb = {t.name: t for t in b.tools}
    for name in sorted(set(ta) | set(tb)):
        if name not in ta:
            changes.append(Change("tools", f"tools.{name}", ChangeKind.ADDED, detail="tool added"))
        elif name not in tb:
            changes.append(
                Change("tools", f"tools.{name}", ChangeKind.REMOVED, detail="tool removed")
            )
        elif ta[name] != tb[name]:
            changes.extend(_tool_changes(ta[name], tb[name]))
    if a.policy != b.policy:
        kind = (
            ChangeKind.ADDED
            if a.policy is None
            else ChangeKind.REMOVED
            if b.policy is None
            else ChangeKind.CHANGED
        )
        changes.append(Change("policy", "policy", kind, a.policy, b.policy))
    changes.extend(_mapping_changes("runtime", "runtime", a.runtime, b.runtime))
    if a.entrypoint != b.entrypoint:
        changes.append(
            Change("entrypoint", "entrypoint", ChangeKind.CHANGED, a.entrypoint, b.entrypoint)
        )
    changes.extend(_mapping_changes("metadata", "metadata", a.metadata, b.metadata))
    return AgentDiff(a_ref, b_ref, a.digest, b.digest, tuple(changes), prompt_diff)
