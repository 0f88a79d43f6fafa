"""One bad batch never stops delivery: span limits with truncation markers, gzip on the wire,
a 413 answered by splitting, a permanent refusal dead-lettered (not retried forever)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest
from ingest_support import ingest_server
from sdk_support import BOT, RESOLVER

from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.registry.keys import create_key
from agentdeck.server.app import create_app
from agentdeck.store import open_store
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.limits import TRUNCATED_ATTR, SpanLimits, limit_span, marker
from app_thread import serve_in_thread


@sdk.tool
def fetch(n: int) -> str:
    return "x" * n


@sdk.tool
def ping(n: int) -> int:
    return n


def _span(**kw: object) -> Span:
    return Span("a" * 32, "b" * 16, None, "s", SpanKind.TOOL, 1, 2, **kw)  # type: ignore[arg-type]


def test_an_oversize_value_is_truncated_with_a_marker_and_its_original_size() -> None:
    limits = SpanLimits(max_value_chars=1000, max_span_bytes=1 << 20)
    span = _span(inputs={"args": {"q": "ok"}}, outputs={"result": "y" * 20_000})
    out = limit_span(span, limits)
    result = out.outputs["result"]  # type: ignore[index,call-overload]
    assert result == "y" * 1000 + marker(20_000) and "20000 chars" in result
    assert out.inputs == span.inputs and out.attributes[TRUNCATED_ATTR] == ["outputs"]
    small = _span(outputs={"result": "fine"}, attributes={"tool.name": "t"})
    assert limit_span(small, limits) is small  # within the limits: not copied, not walked


def test_a_span_past_its_byte_limit_has_its_largest_field_replaced() -> None:
    limits = SpanLimits(max_value_chars=4096, max_span_bytes=8192)
    span = _span(inputs={"args": {"q": "ok"}}, outputs={"result": ["z" * 4000] * 50})
    out = limit_span(span, limits)
    assert isinstance(out.outputs, dict) and out.outputs[TRUNCATED_ATTR] is True
    assert out.outputs["original_bytes"] == len(orjson.dumps(span.outputs))
    assert len(orjson.dumps([out.inputs, out.outputs, out.attributes])) <= 8192
    assert out.inputs == span.inputs


def _record(n: int, tools: int = 3) -> list[str]:
    ids = []
    for r in range(n):
        with sdk.run(agent=BOT, input=r) as run:
            for i in range(tools):
                ping(i)
        ids.append(run.trace_id)
    return ids


def test_a_413_is_answered_by_splitting_the_batch(tmp_path: Path) -> None:
    with ingest_server() as (url, ingest):
        ingest.refuse = lambda runs, spans: 413 if len(runs) + len(spans) > 3 else None
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=tmp_path, schedule_delay=0.02)
        try:
            ids = _record(10)
            result = sdk.flush(10)
            assert result, result
            assert ingest.trace_ids() == set(ids) and len(ingest.spans) == 10 * 4
            stats = sdk.stats()
            assert stats is not None and stats.split_batches >= 1 and stats.dead_lettered == 0
            assert 413 in ingest.refused
        finally:
            sdk.shutdown(5)


def test_one_span_still_too_large_is_truncated_harder_then_dead_lettered(tmp_path: Path) -> None:
    def refuse(runs: list[Run], spans: list[Span]) -> int | None:
        if any(s.name == "poison" for s in spans):
            return 413  # never fits, however small
        return 413 if len(orjson.dumps([s.outputs for s in spans])) > 20_000 else None

    with ingest_server() as (url, ingest):
        ingest.refuse = refuse
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=tmp_path, schedule_delay=0.02)
        try:
            with sdk.run(agent=BOT) as run:
                fetch(50_000)  # under the default value limit, over the server's
                with sdk.span("poison", "custom"):
                    pass
            ids = _record(5)
            result = sdk.flush(10)
            assert not result and result.dead_lettered == 1 and result.spilled == 0
            assert ingest.trace_ids() == {run.trace_id, *ids}
            (tool,) = [s for s in ingest.spans.values() if s.name == "fetch"]
            assert "50000 chars" in tool.outputs["result"]  # type: ignore[index,call-overload]
            assert not [s for s in ingest.spans.values() if s.name == "poison"]
            (dead,) = list(tmp_path.glob("deadletter-*.jsonl"))
            (line,) = dead.read_bytes().splitlines()
            record = orjson.loads(line)
            assert record["status"] == 413 and record["batch"]["spans"][0]["name"] == "poison"
        finally:
            sdk.shutdown(5)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_a_permanent_refusal_is_dead_lettered_and_later_batches_still_arrive(
    tmp_path: Path, status: int
) -> None:
    with ingest_server() as (url, ingest):
        ingest.refuse = lambda runs, spans: status if any(r.input == -1 for r in runs) else None
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=tmp_path, schedule_delay=0.02)
        try:
            with sdk.run(agent=BOT, input=-1):
                ping(1)
            assert not sdk.flush(10)
            ids = _record(20)
            result = sdk.flush(10)
            assert not result and result.dead_lettered == 3 and result.spilled == 0
            assert set(ids) <= ingest.trace_ids()
            stats = sdk.stats()
            assert stats is not None and not stats.spill_pending
            refused = ingest.refused.count(status)
            time.sleep(0.3)  # ten retry periods: a dead-lettered batch is not sent again
            assert ingest.refused.count(status) == refused
            assert len(list(tmp_path.glob("deadletter-*.jsonl"))) == 1
        finally:
            sdk.shutdown(5)


def test_bodies_are_gzipped_on_the_wire(tmp_path: Path) -> None:
    with ingest_server() as (url, ingest):
        sdk.init(endpoint=url, resolver=RESOLVER, spill_dir=tmp_path, schedule_delay=0.02)
        try:
            ids = _record(5)
            assert sdk.flush(10)
            assert ingest.trace_ids() == set(ids)
            assert ingest.gzipped == ingest.requests >= 1
        finally:
            sdk.shutdown(5)


def test_a_20_mb_tool_result_does_not_stop_the_runs_after_it(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'big.db'}")
    key = create_key(store, "sdk", ["ingest"], "test").token
    url, stop = serve_in_thread(create_app(store))
    try:
        sdk.init(endpoint=url, api_key=key, resolver=RESOLVER, spill_dir=tmp_path / "spill",
                 schedule_delay=0.02)  # fmt: skip
        with sdk.run(agent=BOT) as big:
            fetch(20_000_000)
        ids = _record(200, tools=1)
        result = sdk.flush(30)
        assert result, result
        stored = store.get_spans(big.trace_id)
        (tool,) = [s for s in stored if s.name == "fetch"]
        assert tool.outputs["result"].endswith(marker(20_000_000))  # type: ignore[index,union-attr,call-overload]
        assert all(store.get_run(t) is not None for t in ids)
        assert not list((tmp_path / "spill").glob("spill-*.jsonl"))
    finally:
        sdk.shutdown(10)
        stop()
        store.close()


def test_an_adopted_spill_holding_an_oversize_span_is_delivered_and_deleted(
    tmp_path: Path,
) -> None:
    from agentdeck.tracing.sdk.exporter import Exporter
    from agentdeck.tracing.sdk.sink import HttpSink
    from agentdeck.tracing.sdk.spill import SpillFile

    spill_dir = tmp_path / "spill"
    old = SpillFile(spill_dir)  # a process without limits spilled a 3 MB result, then died
    huge = _span(outputs={"result": "q" * 3_000_000})
    old.append([], [huge])
    assert old._f is not None
    old._f.close()
    with ingest_server() as (url, ingest):
        ingest.refuse = lambda runs, spans: (
            413 if len(orjson.dumps([s.outputs for s in spans])) > 1_000_000 else None
        )
        heir = Exporter(HttpSink(url), spill_dir=spill_dir, schedule_delay=0.01)
        try:
            assert heir.flush(10)
            (stored,) = ingest.spans.values()
            assert stored.outputs["result"].endswith(marker(3_000_000))  # type: ignore[index,call-overload]
            assert 413 in ingest.refused
            assert not list(spill_dir.glob("spill-*"))
        finally:
            heir.shutdown(5)
