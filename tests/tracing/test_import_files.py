"""Importing files through the SDK (``agentdeck import``'s engine), on both backends: OpenAI chat
JSONL and OTLP JSON (collector file exporter), a bad line naming file and line with nothing
stored, and the never-dropping mode under a tiny queue."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentdeck
from agentdeck.core.trace.model import Outcome, SpanKind
from agentdeck.core.trace.query import RunQuery
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.imports.files import ImportFileError
from agentdeck.tracing.imports.runner import check_file, import_file
from agentdeck.tracing.sdk import api as sdk
from conversation_support import (
    refund_conversation,
    refund_trace_lines,
    register_example,
    write_jsonl,
)


def _start(tmp_path: Path, store: SqlStore, **kw: object) -> None:
    register_example(store)
    agentdeck.init(sink=store, resolver=CachingResolver(Registry(store)), on_full="block",
                   spill_dir=tmp_path / "spill", schedule_delay=0.02, **kw)  # fmt: skip


def test_openai_jsonl_is_imported_whole(tmp_path: Path, store: SqlStore) -> None:
    docs = [refund_conversation(outcome=i % 2) for i in range(30)]
    docs[3] = refund_conversation(verify=False)  # one would-be denial
    path = write_jsonl(tmp_path / "convs.jsonl", docs)
    assert check_file(path) == ("openai", 30)
    _start(tmp_path, store, queue_size=8, batch_size=4)  # far smaller than the file: blocks
    try:
        report = import_file(path, agent="support-bot@1", fmt="openai")
        assert agentdeck.flush(30)
        stats = agentdeck.stats()
        assert stats is not None and stats.dropped == 0
    finally:
        sdk.shutdown(timeout=10)
    assert (report.runs, report.failed, report.policy_hits) == (30, 0, 1)
    assert report.tool_calls == 29 * 3 + 2
    runs = store.find_runs(RunQuery(agent_name="support-bot", limit=100))
    assert len(runs) == 30
    assert sum(r.outcome is Outcome.SUCCESS for r in runs) == 15  # odd i (docs[3]: 1 too)
    assert report.spans == sum(len(store.get_spans(r.trace_id)) - _policy(store, r.trace_id)
                               for r in runs)  # fmt: skip


def _policy(store: SqlStore, trace_id: str) -> int:
    return sum(s.kind is SpanKind.POLICY for s in store.get_spans(trace_id))


def test_a_bad_line_names_file_and_line_and_nothing_is_stored(
    tmp_path: Path, store: SqlStore
) -> None:
    docs = [refund_conversation() for _ in range(3)]
    path = write_jsonl(tmp_path / "convs.jsonl", docs)
    with path.open("a") as fh:
        fh.write('{"messages": [{"role": "user", "content": "x", "timestamp": "soon"}]}\n')
    with pytest.raises(ImportFileError, match=r"convs\.jsonl:4: messages\[0\]\.timestamp"):
        check_file(path)
    assert store.find_runs(RunQuery(limit=10)) == []


def test_otlp_json_lines_become_one_run_with_checked_calls(tmp_path: Path, store: SqlStore) -> None:
    path = write_jsonl(tmp_path / "traces.json", refund_trace_lines())
    assert check_file(path) == ("otlp", 1)
    _start(tmp_path, store, env="staging")
    try:
        report = import_file(path, agent="support-bot@1", fmt="otlp")
        assert agentdeck.flush(10)
    finally:
        sdk.shutdown(timeout=10)
    assert (report.runs, report.tool_calls, report.invalid_calls, report.policy_hits) == (
        1,
        2,
        1,
        1,
    )
    (run,) = store.find_runs(RunQuery(limit=10))
    assert (run.agent_name, run.agent_version, run.env) == ("support-bot", 1, "staging")
    assert run.end_ns - run.start_ns == 5 * 10**9  # the producer's times
    spans = store.get_spans(run.trace_id)
    tools = {s.tool_name: s for s in spans if s.kind is SpanKind.TOOL}
    look, refund = tools["lookup_order"], tools["issue_refund"]
    assert look.attributes["tool.args_valid"] is False
    assert refund.attributes["policy.would_deny"] is True
    assert all(s.attributes.get("agentdeck.imported") is True for s in spans)
    (policy,) = [s for s in spans if s.kind is SpanKind.POLICY and s.outputs["effect"] == "deny"]
    assert (policy.parent_id, policy.start_ns) == (refund.span_id, refund.start_ns)


def test_otlp_line_that_is_not_a_request_is_refused(tmp_path: Path) -> None:
    lines = refund_trace_lines()
    path = write_jsonl(tmp_path / "traces.json", [lines[0], {"resourceSpans": "no"}])
    with pytest.raises(ImportFileError, match=r"traces\.json:2: "):
        check_file(path, "otlp")
