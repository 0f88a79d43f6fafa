"""Per-run checks through the real SDK: MonitoringSink checks each stored run in the exporter
thread; findings name the run, span, check, severity and explanation; metrics count them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace.model import Run, SpanKind, SpanStatus
from agentdeck.monitor import metrics
from agentdeck.monitor.checks import MonitoringSink, on_runs_stored
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk

SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}},
    "required": ["order_id"],
    "additionalProperties": False,
}
SPEC = AgentSpec(
    name="order-bot",
    model=ModelSpec("openai", "gpt-4o-2024-08-06"),
    tools=(ToolSpec("get_order", input_schema=SCHEMA),),
)


@sdk.tool
def get_order(order_id: Any) -> dict[str, Any]:
    return {"id": order_id, "status": "shipped"}


@sdk.tool
def wire_money(to: str) -> str:  # not in the spec
    return "sent"


class RecordingSink(MonitoringSink):
    threads: list[str]

    def write_batch(self, runs: Any, spans: Any) -> None:
        self.threads.append(threading.current_thread().name)
        super().write_batch(runs, spans)


@pytest.fixture
def monitored(store: SqlStore, tmp_path: Path) -> Iterator[RecordingSink]:
    Registry(store).register_agent(SPEC)
    sink = RecordingSink(store)
    sink.threads = []
    sdk.init(
        sink=sink,
        resolver=CachingResolver(Registry(store)),
        spill_dir=tmp_path / "spill",
        schedule_delay=0.02,
    )
    yield sink
    sdk.shutdown(timeout=5)


def test_bad_runs_are_flagged_with_run_span_check_severity_and_why(
    monitored: RecordingSink, store: SqlStore
) -> None:
    before = metrics.FINDINGS.labels("order-bot", "loop", "warning")._value.get()
    with sdk.run(agent="order-bot@1", input="where is my order?") as run:
        get_order(order_id=42)  # invalid: not a string
        for _ in range(4):
            get_order(order_id="o-1")  # the same call 4 times: a loop
        wire_money(to="x")  # unknown tool
        run.set_output("done")
    assert sdk.flush(5)
    assert threading.main_thread().name not in monitored.threads  # never the agent's thread
    tool_spans = {s.span_id: s for s in store.get_spans(run.trace_id) if s.kind is SpanKind.TOOL}
    found = {f.check: f for f in store.list_findings(trace_id=run.trace_id)}
    assert {"invalid_args", "loop", "unknown_tool"} <= set(found)
    unknown = found["unknown_tool"]
    assert unknown.severity == "critical" and "wire_money" in unknown.explanation
    assert tool_spans[unknown.span_id].tool_name == "wire_money"  # type: ignore[index]
    assert tool_spans[found["invalid_args"].span_id].inputs == {"args": {"order_id": 42}}  # type: ignore[index]
    assert found["loop"].severity == "warning" and found["loop"].agent_name == "order-bot"
    assert store.runs_without_summary("order-bot", None, None, None) == []
    assert metrics.FINDINGS.labels("order-bot", "loop", "warning")._value.get() == before + 1
    assert monitored.errors == 0


def test_a_clean_run_has_no_findings(monitored: RecordingSink, store: SqlStore) -> None:
    with sdk.run(agent="order-bot@1", input="hi") as run:
        get_order(order_id="o-9")
        run.set_output("ok")
    assert sdk.flush(5)
    assert store.list_findings(trace_id=run.trace_id) == []
    assert monitored.checked >= 1


def test_monitoring_failure_never_fails_the_write(store: SqlStore) -> None:
    class Broken(MonitoringSink):
        pass

    sink = Broken(store)
    sink.checker.check = None  # type: ignore[assignment,method-assign]
    run = Run("a" * 32, "x", 1, None, None, None, 1, 2, status=SpanStatus.OK)
    sink.write_batch([run], [])
    assert store.get_run("a" * 32) is not None and sink.errors == 1


def test_on_runs_stored_is_idempotent(store: SqlStore) -> None:
    from monitor_support import store_runs

    runs = store_runs(store, 20, 5, 10**18)
    first = on_runs_stored(store, [r.trace_id for r in runs])
    on_runs_stored(store, [r.trace_id for r in runs])
    stored = store.list_findings(limit=1000)
    assert first and len(stored) == len(
        {(f.trace_id, f.span_id, f.check, f.explanation) for f in first}
    )
