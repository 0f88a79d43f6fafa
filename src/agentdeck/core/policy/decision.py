"""What a policy decided about one tool call, and why (:class:`Decision`).

Semantics (docs/policies.md): the decision is the most severe effect among the matched
rules (deny > require_approval > warn > allow), the policy's default effect when none
matched, and a deny when any rule that can match the call failed to evaluate (fail-closed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from agentdeck.core.policy.cel_engine import CelEvalError
from agentdeck.core.policy.spec import Effect

__all__ = ["Decision", "RuleError", "RuleMatch", "describe_error"]


@dataclass(frozen=True)
class RuleMatch:
    """A rule whose ``when`` was true for the call."""

    rule_id: str
    effect: Effect
    message: str


@dataclass(frozen=True)
class RuleError:
    """A rule whose evaluation failed; it counts as a deny (fail-closed)."""

    rule_id: str
    error: str


@dataclass(frozen=True)
class Decision:
    """The outcome of one tool call against one policy version."""

    effect: Effect
    tool: str
    policy_name: str
    policy_digest: str
    matched: tuple[RuleMatch, ...] = ()
    errors: tuple[RuleError, ...] = ()
    evaluated: tuple[str, ...] = ()
    default_applied: bool = False

    @property
    def allowed(self) -> bool:
        """The tool may run now (allow or warn); require_approval and deny stop it."""
        return self.effect in (Effect.ALLOW, Effect.WARN)

    @property
    def decisive_rules(self) -> tuple[str, ...]:
        """Ids of the rules that produced the effect (errored rules for a fail-closed deny)."""
        if self.errors:
            return tuple(e.rule_id for e in self.errors)
        return tuple(m.rule_id for m in self.matched if m.effect is self.effect)

    @property
    def message(self) -> str:
        """The message to show: the first decisive rule's, in file order."""
        if self.errors:
            first = self.errors[0]
            return (
                f"policy evaluation failed in rule {first.rule_id!r} (fail-closed): {first.error}"
            )
        for m in self.matched:
            if m.effect is self.effect:
                return m.message or f"rule {m.rule_id!r} matched"
        return f"no rule matched; default effect {self.effect.value}"

    def to_dict(self) -> dict[str, Any]:
        """The decision explained as JSON data (``policy eval --json`` and the API)."""
        return {
            "effect": self.effect.value,
            "tool": self.tool,
            "policy": self.policy_name,
            "policy_digest": self.policy_digest,
            "message": self.message,
            "matched": [
                {"rule": m.rule_id, "effect": m.effect.value, "message": m.message}
                for m in self.matched
            ],
            "errors": [{"rule": e.rule_id, "error": e.error} for e in self.errors],
            "evaluated": list(self.evaluated),
            "default_applied": self.default_applied,
            "explanation": self.explanation,
        }

    @cached_property
    def explanation(self) -> str:
        """Several lines saying why: what was evaluated, what matched, what failed."""
        lines = [
            f"{self.effect.value}: tool {self.tool!r} under policy {self.policy_name} "
            f"({self.policy_digest[:19]}...)"
        ]
        for m in self.matched:
            lines.append(
                f"  rule {m.rule_id} matched -> {m.effect.value}: {m.message}".rstrip(": ")
            )
        for e in self.errors:
            lines.append(f"  rule {e.rule_id} failed -> deny (fail-closed): {e.error}")
        if self.default_applied:
            lines.append(f"  no rule matched -> default effect {self.effect.value}")
        elif not self.errors:
            lines.append(f"  most severe matched effect wins: {self.effect.value}")
        ids = ", ".join(self.evaluated) or "none"
        lines.append(f"  rules evaluated for this tool: {ids}")
        return "\n".join(lines)


def describe_error(exc: BaseException) -> str:
    """A rule's evaluation error as one line (CEL's own message where there is one)."""
    if isinstance(exc, CelEvalError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"no such key: {exc.args[0] if exc.args else exc}"
    return f"{type(exc).__name__}: {exc}"
