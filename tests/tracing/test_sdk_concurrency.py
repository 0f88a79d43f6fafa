"""Spans of concurrent runs never mix: threads, asyncio tasks, async tools."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sdk_support import BOT, by_id, sink, spans_of

from agentdeck.core.trace.model import SpanKind, SpanStatus
from agentdeck.tracing.sdk import api as sdk

__all__ = ["sink"]


@sdk.tool
def step(run_no: int, i: int) -> int:
    return run_no * 100 + i


@sdk.tool
async def astep(run_no: int, i: int) -> int:
    await asyncio.sleep(0.001 * ((run_no + i) % 3))  # interleave the tasks
    return run_no * 100 + i


@sdk.tool
async def afail(reason: str) -> None:
    await asyncio.sleep(0)
    raise ValueError(reason)


def _assert_isolated(sink: sdk.InMemorySink, trace_ids: dict[int, str], calls: int) -> None:
    assert len(set(trace_ids.values())) == len(trace_ids)
    for run_no, tid in trace_ids.items():
        spans = spans_of(sink, tid)
        (root,) = [s for s in spans if s.kind is SpanKind.AGENT]
        tools = [s for s in spans if s.kind is SpanKind.TOOL]
        assert len(tools) == calls
        assert all(s.trace_id == tid for s in spans)
        assert all(s.parent_id == root.span_id for s in tools)
        # every recorded arg and result belongs to this run
        assert {s.inputs["args"]["run_no"] for s in tools} == {run_no}
        assert sorted(s.outputs["result"] for s in tools) == [
            run_no * 100 + i for i in range(calls)
        ]
        assert sorted(s.seq for s in spans) == list(range(calls + 1))
        run = sink.run(tid)
        assert run is not None and run.input == run_no


def test_runs_in_threads_never_mix(sink: sdk.InMemorySink) -> None:
    trace_ids: dict[int, str] = {}
    barrier = threading.Barrier(8)

    def worker(run_no: int) -> None:
        with sdk.run(agent=BOT, input=run_no) as run:
            trace_ids[run_no] = run.trace_id
            barrier.wait()
            for i in range(50):
                step(run_no, i)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_isolated(sink, trace_ids, 50)


def test_runs_in_asyncio_tasks_never_mix(sink: sdk.InMemorySink) -> None:
    trace_ids: dict[int, str] = {}

    async def one(run_no: int) -> None:
        async with sdk.run(agent=BOT, input=run_no) as run:
            trace_ids[run_no] = run.trace_id
            for i in range(10):
                await astep(run_no, i)

    async def main() -> None:
        await asyncio.gather(*(one(n) for n in range(6)))

    asyncio.run(main())
    _assert_isolated(sink, trace_ids, 10)


def test_concurrent_tasks_inside_one_run_share_its_trace(sink: sdk.InMemorySink) -> None:
    async def main() -> str:
        with sdk.run(agent=BOT, input=7) as run:
            await asyncio.gather(*(astep(7, i) for i in range(10)))
            assert sdk.current_span() is run
            return run.trace_id

    tid = asyncio.run(main())
    _assert_isolated(sink, {7: tid}, 10)


def test_async_tool_error_is_recorded_and_reraised(sink: sdk.InMemorySink) -> None:
    async def main() -> str:
        with sdk.run(agent=BOT) as run:
            with pytest.raises(ValueError, match="nope"):
                await afail("nope")
            assert sdk.current_span() is run  # context restored after the failure
            return run.trace_id

    tid = asyncio.run(main())
    (span,) = spans_of(sink, tid, SpanKind.TOOL)
    assert span.status is SpanStatus.ERROR and span.error == "ValueError: nope"
    assert by_id(spans_of(sink, tid))[span.parent_id or ""].kind is SpanKind.AGENT
