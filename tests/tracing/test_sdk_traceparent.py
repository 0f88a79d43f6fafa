"""W3C traceparent: format/parse, and a child run recorded in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sdk_support import BOT, sink

from agentdeck.core.trace.model import LinkKind, SpanKind
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.traceparent import format_traceparent, parse_traceparent
from agentdeck.tracing.sdk.wire import batch_from_bytes

__all__ = ["sink"]
HEX = "0123456789abcdef"


@given(
    st.text(HEX, min_size=32, max_size=32).filter(lambda s: s != "0" * 32),
    st.text(HEX, min_size=16, max_size=16).filter(lambda s: s != "0" * 16),
    st.booleans(),
)
def test_traceparent_round_trips(trace_id: str, span_id: str, sampled: bool) -> None:
    ctx = parse_traceparent(format_traceparent(trace_id, span_id, sampled))
    assert ctx is not None and (ctx.trace_id, ctx.span_id, ctx.sampled) == (
        trace_id,
        span_id,
        sampled,
    )


def test_invalid_traceparents_are_rejected() -> None:
    good = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert parse_traceparent(good) is not None
    for bad in [
        "ff-" + "a" * 32 + "-" + "b" * 16 + "-01",  # forbidden version
        "00-" + "0" * 32 + "-" + "b" * 16 + "-01",  # zero trace id
        "00-" + "a" * 32 + "-" + "0" * 16 + "-01",  # zero span id
        "00-" + "A" * 32 + "-" + "b" * 16 + "-01",  # uppercase
        good + "-extra",  # version 00 has exactly four fields
        "garbage",
    ]:
        assert parse_traceparent(bad) is None, bad
    assert parse_traceparent("01-" + "a" * 32 + "-" + "b" * 16 + "-01-future") is not None
    assert sdk.extract_traceparent({"TraceParent": good}) is not None
    assert sdk.extract_traceparent({}) is None


def test_inject_outside_a_run_leaves_the_carrier_alone(sink: sdk.InMemorySink) -> None:
    assert sdk.inject_traceparent({"x": "1"}) == {"x": "1"}


CHILD = textwrap.dedent(
    """
    import os, sys
    from agentdeck.core.spec.agent import AgentSpec, ModelSpec
    from agentdeck.tracing.sdk import api as sdk
    from agentdeck.tracing.sdk.wire import batch_to_bytes

    @sdk.tool
    def lookup(key: str) -> str:
        return key * 2

    sink = sdk.InMemorySink()
    sdk.init(sink=sink, spill_dir=sys.argv[1])
    parent = sdk.extract_traceparent({"traceparent": os.environ["TRACEPARENT"]})
    spec = AgentSpec(name="child-bot", model=ModelSpec("openai", "gpt-4o-2024-08-06"))
    with sdk.run(agent=spec, input="from parent", parent=parent) as run:
        run.set_output(lookup("ab"))
    assert sdk.shutdown(5)
    sys.stdout.buffer.write(batch_to_bytes(sink.runs, sink.spans))
    """
)


def test_a_subprocess_records_a_child_run_linked_to_the_parent_span(
    sink: sdk.InMemorySink, tmp_path: Path
) -> None:
    with sdk.run(agent=BOT, input="q") as run, sdk.span("call child", kind="custom") as call:
        headers = sdk.inject_traceparent()
        env = {**os.environ, "TRACEPARENT": headers["traceparent"]}
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path / "child-spill")],
            env=env, capture_output=True, timeout=60, check=True,
        )  # fmt: skip
    assert headers["traceparent"] == f"00-{run.trace_id}-{call.span_id}-01"
    runs, spans = batch_from_bytes(out.stdout)
    (child,) = runs
    assert child.agent_name == "child-bot" and child.output == "abab"
    assert child.trace_id != run.trace_id  # its own run, linked to ours
    assert child.attributes["parent.trace_id"] == run.trace_id
    assert child.attributes["parent.span_id"] == call.span_id
    root = next(s for s in spans if s.span_id == child.root_span_id)
    assert root.kind is SpanKind.AGENT
    assert [(lk.trace_id, lk.span_id, lk.kind) for lk in root.links] == [
        (run.trace_id, call.span_id, LinkKind.FOLLOWS)
    ]
    (tool,) = [s for s in spans if s.kind is SpanKind.TOOL]
    assert tool.parent_id == root.span_id and tool.outputs == {"result": "abab"}
