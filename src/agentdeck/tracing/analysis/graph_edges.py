"""Execution-graph edges that no parent link carries, inferred from what the spans say:

- ``handoff``: from the agent that hands off (the hand-off span's nearest agent ancestor, else
  the hand-off span itself) to the agent span that takes over: the first span of kind ``agent``
  named by ``handoff.to`` that starts at or after the hand-off;
- ``tool_call``: from a model call whose output asks for a tool call to the tool span that ran
  it, matched by the call id (``tool.call_id`` on the tool span, from ``gen_ai.tool.call.id``
  or ``tool_call.id``).

Each edge is ``{"source", "target", "kind"}`` plus ``"via"`` (the hand-off span) or
``"call_id"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from agentdeck.core.trace.model import Span, SpanKind


def derived_edges(spans: Sequence[Span]) -> list[dict[str, Any]]:
    return [*_handoff_edges(spans), *_tool_call_edges(spans)]


def _agent_ancestor(span: Span, by_id: dict[str, Span]) -> Span | None:
    parent = by_id.get(span.parent_id) if span.parent_id else None
    for _ in range(256):
        if parent is None or parent.kind is SpanKind.AGENT:
            return parent
        parent = by_id.get(parent.parent_id) if parent.parent_id else None
    return None


def _handoff_edges(spans: Sequence[Span]) -> list[dict[str, Any]]:
    by_id = {s.span_id: s for s in spans}
    agents = sorted(
        (s for s in spans if s.kind is SpanKind.AGENT), key=lambda s: (s.start_ns, s.seq)
    )
    edges: list[dict[str, Any]] = []
    for h in spans:
        target_name = h.attributes.get("handoff.to") if h.kind is SpanKind.HANDOFF else None
        if not isinstance(target_name, str):
            continue
        target = next(
            (
                a
                for a in agents
                if a.attributes.get("agent.name") == target_name and a.start_ns >= h.start_ns
            ),
            None,
        ) or next((a for a in agents if a.attributes.get("agent.name") == target_name), None)
        if target is None:
            continue
        source = _agent_ancestor(h, by_id) or h
        edges.append(
            {
                "source": source.span_id,
                "target": target.span_id,
                "kind": "handoff",
                "via": h.span_id,
            }
        )
    return edges


def _tool_call_edges(spans: Sequence[Span]) -> list[dict[str, Any]]:
    tools: dict[str, Span] = {}
    for s in spans:
        call_id = s.attributes.get("tool.call_id")
        if s.kind in (SpanKind.TOOL, SpanKind.HANDOFF) and isinstance(call_id, str):
            tools.setdefault(call_id, s)
    edges: list[dict[str, Any]] = []
    if not tools:
        return edges
    for s in spans:
        if s.kind is not SpanKind.LLM:
            continue
        for call_id in _requested_calls(s.outputs):
            tool = tools.get(call_id)
            if tool is not None:
                edges.append(
                    {
                        "source": s.span_id,
                        "target": tool.span_id,
                        "kind": "tool_call",
                        "call_id": call_id,
                    }
                )
    return edges


def _requested_calls(outputs: object) -> list[str]:
    if not isinstance(outputs, dict):
        return []
    messages = outputs.get("choices")
    if not isinstance(messages, list):
        messages = [outputs.get("message")]
    ids: list[str] = []
    for m in messages:
        calls = m.get("tool_calls") if isinstance(m, dict) else None
        for c in calls if isinstance(calls, list) else ():
            if isinstance(c, dict) and isinstance(c.get("id"), str) and c["id"] not in ids:
                ids.append(c["id"])
    return ids
