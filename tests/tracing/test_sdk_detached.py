"""Detached blocks: the public start/end API integrations use for spans that outlive a call
(framework callbacks, streams drained later): off the context, ended exactly once, never
raising, recording what the ``with`` form records."""

from __future__ import annotations

import threading

from sdk_support import BOT, sink, spans_of

from agentdeck.core.trace.model import SpanKind, SpanStatus
from agentdeck.core.trace.model_call import ModelResponse, ToolCall
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk import recorder
from agentdeck.tracing.sdk.scopes import Detached, LlmCall

__all__ = ["sink"]


class Boom(Exception):
    pass


@sdk.tool
def weather(city: str) -> str:
    return f"sunny in {city}"


def test_detached_span_starts_under_the_current_span_without_becoming_current(
    sink: sdk.InMemorySink,
) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        d = Detached(sdk.span("retrieve", SpanKind.RETRIEVAL, inputs={"q": "oslo"}))
        h = d.start()
        assert h is not None and h.recording and d.handle is h
        assert sdk.current_span() is run  # the caller's context is untouched
        with sdk.span("sibling") as sibling:
            pass
        h.set_output({"docs": 2})
        h.set_attribute("k", "v")
        d.end()
        assert d.ended
    spans = {s.name: s for s in spans_of(sink, run.trace_id)}
    got = spans["retrieve"]
    assert got.parent_id == run.span_id == spans["sibling"].parent_id != sibling.span_id
    assert got.kind is SpanKind.RETRIEVAL and got.status is SpanStatus.OK
    assert got.inputs == {"q": "oslo"} and got.outputs == {"docs": 2}
    assert got.attributes["k"] == "v"


def test_end_is_exactly_once_even_from_many_threads(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        d = Detached(sdk.span("step"))
        d.start()
        barrier = threading.Barrier(8)

        def end() -> None:
            barrier.wait()
            d.end(Boom("first") if threading.current_thread().name.endswith("0") else None)

        threads = [threading.Thread(target=end, name=f"t{i}") for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        d.end(Boom("late"))
    steps = [s for s in spans_of(sink, run.trace_id) if s.name == "step"]
    assert len(steps) == 1
    assert "late" not in (steps[0].error or "")


def test_end_records_the_error_and_explicit_parent(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        outer = Detached(sdk.span("outer"))
        parent = outer.start()
        inner = Detached(sdk.span("inner"))
        inner.start(parent)
        inner.end(Boom("bad input"))
        outer.end()
    spans = {s.name: s for s in spans_of(sink, run.trace_id)}
    assert spans["inner"].parent_id == spans["outer"].span_id
    assert spans["inner"].status is SpanStatus.ERROR
    assert spans["inner"].error == "Boom: bad input"
    assert spans["inner"].attributes["error.type"] == "Boom"


def test_not_recording_start_gives_none_and_end_does_nothing(sink: sdk.InMemorySink) -> None:
    d = Detached(sdk.span("outside any run"))
    assert d.start() is None and d.handle is None
    d.end(Boom("ignored"))
    assert not d.ended
    sdk.shutdown()
    d2 = Detached(sdk.run(agent=BOT, input="q"))
    assert d2.start() is None
    d2.end()


def test_detached_run_is_a_run_with_its_record(sink: sdk.InMemorySink) -> None:
    d = Detached(sdk.run(agent=BOT, input="q", attributes={"framework": "x"}))
    h = d.start()
    assert h is not None and sdk.current_span() is None
    h.set_output("done")
    d.end()
    assert sdk.flush(5)
    rec = sink.run(h.trace_id)
    assert rec is not None and rec.output == "done" and rec.agent_name == BOT.name
    (root,) = spans_of(sink, h.trace_id)
    assert root.attributes["framework"] == "x"


def test_detached_llm_gets_data_flow_links_and_a_late_request(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        asked = Detached(sdk.llm(messages=[{"role": "user", "content": "q"}], provider="p"))
        call = asked.start()
        assert isinstance(call, LlmCall)
        call.record(ModelResponse.assistant(None, [ToolCall("c1", "weather", {"city": "Oslo"})]))
        asked.end()
        weather(city="Oslo")
        block = sdk.llm(messages=[])
        answered = Detached(block)
        answered.start()
        block.set_request(messages=[{"role": "tool", "tool_call_id": "c1", "content": "sunny"}],
                          tools=[{"name": "weather"}], model="m-2", params={"t": 0})  # fmt: skip
        answered.end()
    spans = spans_of(sink, run.trace_id)
    first, second = (s for s in spans if s.kind is SpanKind.LLM)
    (tool,) = (s for s in spans if s.kind is SpanKind.TOOL)
    assert [lk.span_id for lk in tool.links] == [first.span_id]
    assert tool.span_id in [lk.span_id for lk in second.links]
    assert second.name == "chat m-2" and second.attributes["llm.model"] == "m-2"
    assert second.inputs == {"messages": [{"role": "tool", "tool_call_id": "c1",
                                           "content": "sunny"}],
                             "tools": [{"name": "weather"}]}  # fmt: skip
    assert second.attributes["llm.params"] == {"t": 0}


def test_span_set_inputs_replaces_inputs_until_the_end(sink: sdk.InMemorySink) -> None:
    with sdk.run(agent=BOT, input="q") as run:
        block = sdk.span("tool-ish", SpanKind.TOOL, inputs={"args": {}})
        d = Detached(block)
        d.start()
        block.set_inputs({"args": {"city": "Oslo"}})
        d.end()
    (got,) = (s for s in spans_of(sink, run.trace_id) if s.name == "tool-ish")
    assert got.inputs == {"args": {"city": "Oslo"}}


def test_a_failing_block_is_counted_not_raised(sink: sdk.InMemorySink) -> None:
    class Broken(sdk.span):
        def _close(self, cfg: recorder.Config, exc: BaseException | None) -> None:
            raise RuntimeError("recorder bug")

    before = recorder.internal_errors()
    with sdk.run(agent=BOT, input="q"):
        d = Detached(Broken("broken"))
        assert d.start() is not None
        d.end()  # does not raise
        d.end()
    assert recorder.internal_errors() == before + 1
