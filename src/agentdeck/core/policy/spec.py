"""PolicySet: a versioned list of tool-call rules (the file format; evaluation is in
:mod:`agentdeck.core.policy.evaluate`).

A policy file is validated against ``policy.schema.json``; rule ids must be unique. The digest
is the sha256 of the RFC 8785 canonical JSON of :meth:`PolicySet.to_dict`; rule order is kept
(it is part of the meaning: see docs/policies.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.spec.canonical import digest
from agentdeck.core.spec.schemas import validate


class Effect(StrEnum):
    ALLOW = "allow"
    WARN = "warn"
    REQUIRE_APPROVAL = "require_approval"
    DENY = "deny"

    @property
    def severity(self) -> int:
        """deny > require_approval > warn > allow."""
        return _SEVERITY[self]


_SEVERITY = {Effect.ALLOW: 0, Effect.WARN: 1, Effect.REQUIRE_APPROVAL: 2, Effect.DENY: 3}


@dataclass(frozen=True)
class Rule:
    id: str
    when: str
    effect: Effect
    description: str = ""
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "description": self.description,
            "when": self.when,
            "effect": self.effect.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class PolicyTest:
    """A test case: a tool call with its context and the expected decision."""

    name: str
    call: Mapping[str, Any]
    expect: Effect
    expect_rules: tuple[str, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "call": dict(self.call),
            "expect": self.expect.value,
        }
        if self.expect_rules is not None:
            out["expect_rules"] = list(self.expect_rules)
        return out


@dataclass(frozen=True)
class PolicySet:
    name: str
    rules: tuple[Rule, ...]
    default_effect: Effect = Effect.ALLOW
    description: str = ""
    tests: tuple[PolicyTest, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "default_effect": self.default_effect.value,
            "rules": [r.to_dict() for r in self.rules],
            "tests": [t.to_dict() for t in self.tests],
        }

    @property
    def digest(self) -> str:
        return digest(self.to_dict())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PolicySet:
        """Rebuild from :meth:`to_dict` output (stored, validated when it was registered):
        without the JSON Schema pass, whose validator costs reading commands ~100 ms of
        start-up. A row that does not rebuild gets the full validation's precise error."""
        try:
            return _build(data, "<stored policy>")
        except (KeyError, TypeError, ValueError, AttributeError):
            return parse_policy_spec(data, "<stored policy>")


def parse_policy_spec(data: Any, source: str) -> PolicySet:
    """Validate and normalize a policy document. Errors name ``source`` and the field."""
    if not isinstance(data, Mapping):
        raise SpecError(
            source, None, f"expected a mapping at the top level, got {type(data).__name__}"
        )
    validate("policy", data, source)
    return _build(data, source)


def _build(data: Mapping[str, Any], source: str) -> PolicySet:
    """The policy set of a document that passed the schema."""
    rules: list[Rule] = []
    seen: set[str] = set()
    for i, r in enumerate(data["rules"]):
        if r["id"] in seen:
            raise SpecError(source, f"rules[{i}].id", f"duplicate rule id {r['id']!r}")
        seen.add(r["id"])
        rules.append(
            Rule(
                id=r["id"],
                when=r["when"].strip(),
                effect=Effect(r["effect"]),
                description=r.get("description", ""),
                message=r.get("message", ""),
            )
        )
    tests = tuple(
        PolicyTest(
            name=t.get("name") or f"case {i + 1}",
            call=dict(t["call"]),
            expect=Effect(t["expect"]),
            expect_rules=tuple(t["expect_rules"]) if "expect_rules" in t else None,
        )
        for i, t in enumerate(data.get("tests") or [])
    )
    return PolicySet(
        name=data["name"],
        description=data.get("description", ""),
        default_effect=Effect(data.get("default_effect", "allow")),
        rules=tuple(rules),
        tests=tests,
    )
