"""``agentdeck rca``: load a run (and the runs its data-flow links reach), check tool responses
against the pinned output schemas of the agents that made them, and explain the failure.

A run whose outcome is a failure with no bad span to blame (nothing errored: the agent just
did not do its job) is explained by how it differs from the latest baseline of its agent and
environment (:func:`agentdeck.core.behaviour.failure_explain.explain_failure`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

import jsonschema
import orjson

from agentdeck.core.behaviour.failure_explain import explain_failure
from agentdeck.core.behaviour.profile import BehaviourProfile
from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.spec.agent import AgentSpec
from agentdeck.core.trace.model import Outcome, Run, Span, SpanKind
from agentdeck.core.trace.rca import RootCause, analyze, failing_span
from agentdeck.store.protocol import MonitorStore, RegistryStore, TraceStore
from agentdeck.tracing.analysis.queries import load_trace
from agentdeck.tracing.sdk.wire import span_to_dict


class RcaStore(TraceStore, RegistryStore, MonitorStore, Protocol):
    """What root-cause analysis reads: the trace, agent specs by digest, baselines."""


MAX_LINKED_TRACES = 50


def _gather(store: RcaStore, trace_id: str) -> tuple[list[Span], list[Span]]:
    """Spans of the trace and of every trace reachable through links (bounded)."""
    first = load_trace(store, trace_id)
    spans = list(first.spans)
    seen = {first.trace_id}
    frontier = [ln.trace_id for s in spans for ln in s.links if ln.trace_id not in seen]
    while frontier and len(seen) < MAX_LINKED_TRACES:
        tid = frontier.pop()
        if tid in seen:
            continue
        seen.add(tid)
        more = store.get_spans(tid)
        spans.extend(more)
        frontier.extend(ln.trace_id for s in more for ln in s.links if ln.trace_id not in seen)
    return list(first.spans), spans


def _spec_lookup(store: RcaStore, spans: list[Span]) -> Callable[[Span], AgentSpec | None]:
    by_id = {s.span_id: s for s in spans}
    run_digests: dict[str, str | None] = {}
    specs: dict[str, AgentSpec | None] = {}

    def digest_for(span: Span) -> str | None:
        cur: Span | None = span
        while cur is not None:
            if cur.kind is SpanKind.AGENT and isinstance(cur.attributes.get("agent.digest"), str):
                return str(cur.attributes["agent.digest"])
            cur = by_id.get(cur.parent_id) if cur.parent_id else None
        if span.trace_id not in run_digests:
            run = store.get_run(span.trace_id)
            run_digests[span.trace_id] = run.agent_digest if run else None
        return run_digests[span.trace_id]

    def lookup(span: Span) -> AgentSpec | None:
        d = digest_for(span)
        if d is None:
            return None
        if d not in specs:
            found = store.get_agent_by_digest(d)
            specs[d] = found[0].spec if found else None
        return specs[d]

    return lookup


def output_checker(store: RcaStore, spans: list[Span]) -> Callable[[Span], str | None]:
    """Does a tool span's result match the pinned output schema of its agent's spec?"""
    lookup = _spec_lookup(store, spans)

    def check(span: Span) -> str | None:
        spec = lookup(span)
        name = span.tool_name
        if spec is None or name is None:
            return None
        tool = spec.tool(name)
        if tool is None or tool.output_schema is None or not isinstance(span.outputs, dict):
            return None
        result: Any = span.outputs.get("result")
        err = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(dict(tool.output_schema)).iter_errors(result)
        )
        if err is None:
            return None
        where = "/".join(map(str, err.absolute_path)) or "(root)"
        return f"response of {name!r} does not match its pinned output schema at {where}: {err.message}"

    return check


def _baseline(store: RcaStore, run: Run) -> BehaviourProfile | None:
    if not run.agent_name:
        return None
    rec = store.latest_baseline(run.agent_name, run.env)
    if rec is None:
        return None
    data = orjson.loads(rec.profile)
    return BehaviourProfile.from_dict(data if isinstance(data, dict) else {}, rec.name)


def root_cause(store: RcaStore, trace_id: str) -> RootCause | None:
    own, spans = _gather(store, trace_id)
    rc = analyze(spans, start=failing_span(own), output_check=output_checker(store, spans))
    if rc is None or rc.cause is not None or not own:
        return rc
    run = store.get_run(own[0].trace_id)
    if run is None or run.outcome is not Outcome.FAILURE:
        return rc
    profile = _baseline(store, run)
    bow = profile.settings.bow_buckets if profile is not None else None
    view = RunView.from_run(run, own, bow) if bow else RunView.from_run(run, own)
    diffs = tuple(d.detail for d in explain_failure(view, profile))
    return replace(rc, differences=diffs)


def rca_to_dict(rc: RootCause) -> dict[str, Any]:
    """The JSON form of a root-cause analysis, as the CLI's ``--json`` and the API give it."""
    return {
        "failure": span_to_dict(rc.failure),
        "cause": None
        if rc.cause is None
        else {
            "span": span_to_dict(rc.cause.span),
            "why": rc.cause.why.value,
            "detail": rc.cause.detail,
        },
        "path": [
            {
                "span_id": p.span.span_id,
                "name": p.span.name,
                "kind": p.span.kind.value,
                "edge": p.edge.value if p.edge else None,
            }
            for p in rc.path
        ],
        "bad_spans": [
            {"span_id": b.span.span_id, "name": b.span.name, "why": b.why.value, "detail": b.detail}
            for b in rc.bad_spans
        ],
        "recovered": [
            {"span_id": b.span.span_id, "name": b.span.name, "why": b.why.value, "detail": b.detail}
            for b in rc.recovered
        ],
        "differences": list(rc.differences),
    }
