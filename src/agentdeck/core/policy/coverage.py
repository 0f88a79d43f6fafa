"""Policy coverage: which tools and argument fields of an agent no rule mentions.

``agentdeck policy coverage AGENT_REF [--since REF]`` answers "what can this agent do that
its policy never looks at?", and, with ``--since``, "what is new since the version the
policy was last tested with, and does any rule look at it?".

It is static analysis of the rules' CEL text (see :mod:`agentdeck.core.policy.static`):

- a tool is *named* by a rule that compares ``tool.name`` with its name
  (``tool.name == "x"``, ``"x" == tool.name``, ``tool.name in ["x", ...]``, also ``!=``);
  a rule with no tool condition applies to every tool but names none;
- an argument field (a dotted path through the tool's ``input_schema`` properties, with
  ``[]`` for array items: ``customer.email``, ``lines[].sku``) is *mentioned* by a rule
  that reads ``args.<path>`` (``args.customer.email``, ``args["to"]``, ``has(args.to)``,
  ``"to" in args``) and applies to that tool: its top-level conjuncts restrict it to the
  tool, or it has no tool restriction at all. Reading a field mentions its parents too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentdeck.core.policy.spec import PolicySet
from agentdeck.core.policy.static import analyze
from agentdeck.core.spec.agent import AgentSpec, ToolSpec

__all__ = ["CoverageReport", "FieldCoverage", "ToolCoverage", "policy_coverage", "schema_fields"]


@dataclass(frozen=True)
class FieldCoverage:
    """One argument field of one tool, and whether any applicable rule reads it."""

    tool: str
    path: str
    covered: bool


@dataclass(frozen=True)
class ToolCoverage:
    """One tool, and whether any rule names it."""

    tool: str
    covered: bool


@dataclass(frozen=True)
class CoverageReport:
    """The coverage of one agent version by one policy version.

    ``tools`` and ``fields`` list everything; ``new_tools`` and ``new_fields`` (only with
    ``since``) list what the agent gained since that version. ``unknown_tools`` are tool
    names the policy mentions that the agent does not have (often a typo).
    """

    policy_name: str
    policy_digest: str
    agent_name: str
    agent_digest: str
    tools: tuple[ToolCoverage, ...]
    fields: tuple[FieldCoverage, ...]
    unknown_tools: tuple[str, ...] = ()
    since_digest: str | None = None
    new_tools: tuple[ToolCoverage, ...] = ()
    new_fields: tuple[FieldCoverage, ...] = ()

    @property
    def uncovered_tools(self) -> tuple[str, ...]:
        return tuple(t.tool for t in self.tools if not t.covered)

    @property
    def uncovered_fields(self) -> tuple[FieldCoverage, ...]:
        return tuple(f for f in self.fields if not f.covered)

    @property
    def fully_covered(self) -> bool:
        return not self.uncovered_tools and not self.uncovered_fields


def schema_fields(schema: Mapping[str, Any] | None) -> tuple[str, ...]:
    """Dotted paths of the properties in a JSON Schema (objects nest with ``.``, array items
    with ``[]``), in schema order, parents before children."""
    out: list[str] = []

    def walk(prefix: str, node: Any, depth: int) -> None:
        if not isinstance(node, Mapping) or depth > 16:
            return
        props = node.get("properties")
        if isinstance(props, Mapping):
            for name, sub in props.items():
                path = f"{prefix}.{name}" if prefix else str(name)
                out.append(path)
                walk(path, sub, depth + 1)
        items = node.get("items")
        if isinstance(items, Mapping) and prefix:
            walk(prefix + "[]", items, depth + 1)

    walk("", schema, 0)
    return tuple(out)


def _mentions(paths: Iterable[str]) -> set[str]:
    """The paths and all their parents (``a.b[].c`` mentions ``a.b[]``, ``a.b`` and ``a``)."""
    out: set[str] = set()
    for p in paths:
        parts = p.split(".")
        for k in range(1, len(parts) + 1):
            prefix = ".".join(parts[:k])
            out.add(prefix)
            out.add(prefix.removesuffix("[]"))
    return out


def policy_coverage(
    policy: PolicySet, spec: AgentSpec, since: AgentSpec | None = None
) -> CoverageReport:
    """Report the tools and argument fields of ``spec`` that no rule of ``policy`` covers,
    and (with ``since``) what is new since that agent version."""
    named: set[str] = set()
    any_tool_args: set[str] = set()
    per_tool_args: dict[str, set[str]] = {}
    for rule in policy.rules:
        facts = analyze(rule.when)
        named |= facts.named_tools | (facts.tool_scope or frozenset())
        arg_paths = _mentions(facts.arg_paths())
        if facts.tool_scope is None:
            any_tool_args |= arg_paths
        else:
            for tool in facts.tool_scope:
                per_tool_args.setdefault(tool, set()).update(arg_paths)

    def field_cov(tool: ToolSpec) -> list[FieldCoverage]:
        mentioned = any_tool_args | per_tool_args.get(tool.name, set())
        return [
            FieldCoverage(tool.name, p, p in mentioned) for p in schema_fields(tool.input_schema)
        ]

    tools = tuple(ToolCoverage(t.name, t.name in named) for t in spec.tools)
    fields = tuple(f for t in spec.tools for f in field_cov(t))
    agent_tools = {t.name for t in spec.tools}
    report = CoverageReport(
        policy_name=policy.name,
        policy_digest=policy.digest,
        agent_name=spec.name,
        agent_digest=spec.digest,
        tools=tools,
        fields=fields,
        unknown_tools=tuple(sorted(named - agent_tools)),
    )
    if since is None:
        return report
    old_tools = {t.name: t for t in since.tools}
    old_fields = {(t.name, p) for t in since.tools for p in schema_fields(t.input_schema)}
    new_tools = tuple(t for t in tools if t.tool not in old_tools)
    new_fields = tuple(f for f in fields if (f.tool, f.path) not in old_fields)
    return CoverageReport(
        **{
            **report.__dict__,
            "since_digest": since.digest,
            "new_tools": new_tools,
            "new_fields": new_fields,
        }
    )
