"""A provisional run and a real run, with their spans, for the tests that show them (CLI, API,
web UI). The provisional run is built as the OTLP receiver builds one (see
``tracing/otlp/decode.py``): two child spans whose parent never arrived, the run's time range
theirs, status ``error`` from the failed one, the marker first in its attributes. Store both with
:func:`write_both`, which goes through ``write_batch(..., provisional=[...])`` as the receiver
does."""

from __future__ import annotations

import time

from agentdeck.core.trace.model import (
    PROVISIONAL,
    Run,
    Span,
    SpanKind,
    SpanStatus,
    new_span_id,
    new_trace_id,
)
from agentdeck.store import SqlStore

MS = 1_000_000


def provisional_trace(start_ns: int | None = None) -> tuple[Run, list[Span]]:
    """A trace seen only through two child spans (an LLM call, then a failed tool call)."""
    tid, parent = new_trace_id(), new_span_id()  # the parent (the root) is never written
    t0 = start_ns if start_ns is not None else time.time_ns()
    spans = [
        Span(tid, new_span_id(), parent, "chat gpt-4o", SpanKind.LLM, t0, t0 + 20 * MS, 0,
             SpanStatus.OK, attributes={"agent.name": "support-bot"}),
        Span(tid, new_span_id(), parent, "lookup_order", SpanKind.TOOL, t0 + 21 * MS,
             t0 + 35 * MS, 1, SpanStatus.ERROR, "order service down",
             inputs={"args": {"order_id": "A-17"}}),
    ]  # fmt: skip
    run = Run(
        trace_id=tid,
        agent_name="support-bot",
        agent_version=None,
        agent_digest=None,
        env="production",
        deployment_id=None,
        start_ns=t0,
        end_ns=t0 + 35 * MS,
        status=SpanStatus.ERROR,
        error="order service down",
        attributes={PROVISIONAL: True, "service.name": "support-bot"},
    )
    return run, spans


def real_trace(start_ns: int | None = None) -> tuple[Run, list[Span]]:
    """A finished trace with its root span, and its (real) run."""
    tid, root = new_trace_id(), new_span_id()
    t0 = start_ns if start_ns is not None else time.time_ns()
    spans = [
        Span(tid, root, None, "support-bot", SpanKind.AGENT, t0, t0 + 50 * MS, 0, SpanStatus.OK,
             inputs={"input": "where is A-17?"}, attributes={"agent.name": "support-bot"}),
        Span(tid, new_span_id(), root, "lookup_order", SpanKind.TOOL, t0 + 5 * MS, t0 + 20 * MS,
             1, SpanStatus.OK, inputs={"args": {"order_id": "A-17"}}),
    ]  # fmt: skip
    run = Run(
        trace_id=tid,
        agent_name="support-bot",
        agent_version=2,
        agent_digest="sha256:" + "ab" * 32,
        env="production",
        deployment_id=None,
        start_ns=t0,
        end_ns=t0 + 50 * MS,
        status=SpanStatus.OK,
        input="where is A-17?",
        output="shipped",
        root_span_id=root,
    )
    return run, spans


def write_both(store: SqlStore) -> tuple[Run, Run]:
    """Store a real run and, a second later, a provisional one; return (provisional, real)."""
    t0 = time.time_ns()
    real, real_spans = real_trace(t0)
    prov, prov_spans = provisional_trace(t0 + 1_000 * MS)
    store.write_batch([real], [*real_spans, *prov_spans], provisional=[prov])
    return prov, real
