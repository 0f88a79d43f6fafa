"""Trace queries: a run with its span tree, its execution graph as JSON, and a run as JSON
(the one shape the API and the CLI's ``--json`` print)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentdeck.core.access.projects import DEFAULT_PROJECT
from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.trace.model import Run, Span
from agentdeck.store.trace_reads import TraceReads
from agentdeck.tracing.analysis.graph_edges import derived_edges
from agentdeck.tracing.run_json import run_json as run_json  # the API's and the CLI's


@dataclass
class SpanNode:
    span: Span
    children: list[SpanNode] = field(default_factory=list)


@dataclass(frozen=True)
class RunTrace:
    run: Run | None
    spans: tuple[Span, ...]
    roots: tuple[SpanNode, ...]

    @property
    def trace_id(self) -> str:
        return self.run.trace_id if self.run else self.spans[0].trace_id


def build_tree(spans: list[Span]) -> list[SpanNode]:
    """Span nodes nested by parent, children in ``seq`` order; orphans become roots."""
    nodes = {s.span_id: SpanNode(s) for s in spans}
    roots: list[SpanNode] = []
    for s in sorted(spans, key=lambda x: (x.seq, x.start_ns)):
        parent = nodes.get(s.parent_id) if s.parent_id else None
        (parent.children if parent else roots).append(nodes[s.span_id])
    return roots


def find_trace_id(store: TraceReads, prefix: str, project: str | None = None) -> str:
    """Accept a full trace id or a unique prefix (as printed by ``agentdeck runs``);
    ``project``: a prefix matches only that project's runs."""
    prefix = prefix.strip().lower()
    if len(prefix) == 32:
        return prefix
    if len(prefix) >= 4:
        matches = store.trace_ids_with_prefix(prefix, project=project)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise UnresolvedReferenceError(prefix, "ambiguous run id prefix; give more digits")
    raise UnresolvedReferenceError(prefix, "no run with that id")


def load_trace(store: TraceReads, trace_id: str, project: str | None = None) -> RunTrace:
    """A run and its spans by id or unique prefix; ``project``: only a run of that project (a
    trace of spans without a run belongs to the default project)."""
    tid = find_trace_id(store, trace_id, project)
    run = store.get_run(tid)
    if project is not None and (run.project if run else DEFAULT_PROJECT) != project:
        raise UnresolvedReferenceError(trace_id, "no run with that id")
    spans = store.get_spans(tid)
    if run is None and not spans:
        raise UnresolvedReferenceError(trace_id, "no run with that id")
    return RunTrace(run, tuple(spans), tuple(build_tree(spans)))


def execution_graph(trace: RunTrace) -> dict[str, Any]:
    """Nodes (spans) and edges as JSON data: parent -> child, data-flow/policy links, and the
    edges :func:`~agentdeck.tracing.analysis.graph_edges.derived_edges` infers (hand-off ->
    target agent, model tool call -> tool span)."""
    nodes = []
    edges: list[dict[str, Any]] = []
    for s in trace.spans:
        nodes.append(
            {
                "id": s.span_id,
                "trace_id": s.trace_id,
                "name": s.name,
                "kind": s.kind.value,
                "status": s.status.value,
                "failed": s.failed,  # raised, or an eval that did not pass
                "error": s.error,
                "seq": s.seq,
                "start_ns": s.start_ns,
                "duration_ms": round(s.duration_ns / 1e6, 3),
                "agent": s.attributes.get("agent.name"),
                "tool": s.tool_name,
            }
        )
        if s.parent_id:
            edges.append({"source": s.parent_id, "target": s.span_id, "kind": "parent"})
        for link in s.links:
            edges.append(
                {
                    "source": link.span_id,
                    "target": s.span_id,
                    "kind": link.kind.value,
                    "source_trace_id": link.trace_id,
                }
            )
    edges.extend(derived_edges(trace.spans))
    return {"trace_id": trace.trace_id, "nodes": nodes, "edges": edges}
