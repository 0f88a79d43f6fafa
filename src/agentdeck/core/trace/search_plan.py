"""A parsed search query on a :class:`RunQuery`: what the list's indexes serve is lifted into
its fields, the rest stays a tree the store compiles to SQL.

A term that must hold for every match (the query itself, or an item of its top-level AND)
and that names a field the runs list already filters by index (agent, version, digest, env,
status, outcome, session, user, tool, tool errors and denials as true/false, a time bound)
becomes that field, so ``agent:support-bot env:production refund`` reads the
``(agent_name, start_ns, trace_id)`` index newest first and checks the text of those runs
only. A field already set to something else keeps the term in the tree (both must hold).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.core.trace.search import All, Node, Term, parse_search

__all__ = ["search_query", "with_search"]

_LIFTED = {
    "agent": "agent_name",
    "version": "agent_version",
    "digest": "agent_digest",
    "env": "env",
    "session": "session_id",
    "user": "user_id",
    "tool": "tool",
}


def _lift(term: Term, fields: dict[str, Any]) -> bool:
    """Set the field ``term`` names in ``fields`` when it is free or already equal; whether
    it did."""
    name, op, value = term.field, term.op, term.value
    target: str | None = None
    lifted: Any = None
    if op == "=" and name in _LIFTED:
        target, lifted = _LIFTED[name], value
    elif op == "=" and name == "status":
        target, lifted = "status", SpanStatus(str(value))
    elif op == "=" and name == "outcome":
        target, lifted = "outcome", Outcome(str(value))
    elif op == "=" and name in ("errors", "denied") and isinstance(value, bool):
        target, lifted = ("has_errors" if name == "errors" else "denied"), value
    elif name == "time" and op in (">", ">=") and isinstance(value, int):
        bound = value + (1 if op == ">" else 0)
        old = fields["since_ns"]
        fields["since_ns"] = bound if old is None else max(old, bound)
        return True
    elif name == "time" and op in ("<", "<=") and isinstance(value, int):
        bound = value + (1 if op == "<=" else 0)
        old = fields["until_ns"]
        fields["until_ns"] = bound if old is None else min(old, bound)
        return True
    if target is None:
        return False
    if fields[target] is None or fields[target] == lifted:
        fields[target] = lifted
        return True
    return False


def with_search(query: RunQuery, node: Node | None) -> RunQuery:
    """``query`` narrowed by the search tree ``node`` (module docstring)."""
    if node is None:
        return query
    items = node.items if isinstance(node, All) else (node,)
    fields = {
        k: getattr(query, k)
        for k in (*_LIFTED.values(), "status", "outcome", "has_errors", "denied", "since_ns",
                  "until_ns")
    }  # fmt: skip
    rest: list[Node] = []
    for item in items:
        if not (isinstance(item, Term) and _lift(item, fields)):
            rest.append(item)
    if query.search is not None:
        rest.insert(0, query.search)
    search: Node | None = None
    if len(rest) == 1:
        search = rest[0]
    elif rest:
        search = All(tuple(rest))
    return replace(query, **fields, search=search)


def search_query(query: RunQuery, text: str | None, source: str = "query.q") -> RunQuery:
    """``query`` narrowed by the search ``text`` (parsed; errors name ``source``)."""
    if not text or not text.strip():
        return query
    return with_search(query, parse_search(text, source))
