"""``agentdeck.record_conversation``: a finished OpenAI-format conversation becomes one run with
LLM -> tool links, original times and usage (or ``agentdeck.timing = unknown``), arguments
validated against the pinned schemas and the policy decided in record-only mode."""

from __future__ import annotations

from pathlib import Path

import pytest

import agentdeck
from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import LinkKind, Outcome, Span, SpanKind
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from conversation_support import call, refund_conversation, register_example


def _start(tmp_path: Path, store: SqlStore) -> None:
    register_example(store)
    agentdeck.init(sink=store, resolver=CachingResolver(Registry(store)), on_full="block",
                   spill_dir=tmp_path / "spill", schedule_delay=0.02)  # fmt: skip


def _spans(store: SqlStore, trace_id: str) -> list[Span]:
    return sorted(store.get_spans(trace_id), key=lambda s: s.seq)


def test_links_times_usage_and_outcome_are_kept(tmp_path: Path, store: SqlStore) -> None:
    _start(tmp_path, store)
    try:
        conv = refund_conversation()
        got = agentdeck.record_conversation(conv["messages"], agent="support-bot@1", outcome=1,
                                            metadata={"task": "t-1"})  # fmt: skip
        assert got is not None and got.timing == "original"
        assert (got.tool_calls, got.invalid_calls, got.policy_hits) == (3, 0, 0)
        assert agentdeck.flush(10)
        run = store.get_run(got.trace_id)
        assert run is not None
        assert (run.agent_name, run.agent_version, run.outcome) == (
            "support-bot",
            1,
            Outcome.SUCCESS,
        )
        assert run.end_ns - run.start_ns == 8 * 10**9  # nine messages one second apart
        assert run.attributes["metadata.task"] == "t-1"
        assert run.attributes["agentdeck.imported"] is True
        spans = _spans(store, got.trace_id)
        by_kind = {k: [s for s in spans if s.kind is k] for k in SpanKind}
        llms, tools = by_kind[SpanKind.LLM], by_kind[SpanKind.TOOL]
        assert [t.name for t in tools] == ["lookup_order", "verify_identity", "issue_refund"]
        assert len(llms) == 4
        for t in tools:  # each tool span links to the LLM span that asked for it ...
            asked = [lk.span_id for lk in t.links if lk.kind is LinkKind.DATA]
            assert len(asked) == 1 and asked[0] in {s.span_id for s in llms}
            assert t.attributes["tool.args_valid"] is True
            assert t.attributes["agentdeck.timing"] == "original"
            assert t.duration_ns == 10**9  # from the call to its result
        # ... and the next LLM span links back to the tool spans whose results it read
        assert [lk.span_id for lk in llms[1].links] == [tools[0].span_id]
        assert llms[0].usage is not None and llms[0].usage.input_tokens == 100
        assert llms[0].duration_ns == 10**9
        assert [m["role"] for m in llms[1].inputs["messages"]] == [
            "system",
            "user",
            "assistant",
            "tool",
        ]
        assert llms[0].outputs["message"]["tool_calls"][0]["arguments"] == {"order_id": "ORD-1001"}
    finally:
        sdk.shutdown(timeout=5)


def test_without_timestamps_spans_are_marked_timing_unknown(
    tmp_path: Path, store: SqlStore
) -> None:
    _start(tmp_path, store)
    try:
        conv = refund_conversation(stamps=False)
        got = agentdeck.record_conversation(conv, agent="support-bot@1")
        assert got is not None and got.timing == "unknown"
        assert agentdeck.flush(10)
        spans = _spans(store, got.trace_id)
        assert spans and all(s.attributes.get("agentdeck.timing") == "unknown" for s in spans)
        assert all(s.attributes.get("agentdeck.imported") is True for s in spans)
        run = store.get_run(got.trace_id)
        assert run is not None and run.attributes["agentdeck.timing"] == "unknown"
        assert run.outcome is Outcome.SUCCESS  # the object's own outcome: 1
    finally:
        sdk.shutdown(timeout=5)


def test_invalid_args_and_policy_are_recorded_never_enforced(
    tmp_path: Path, store: SqlStore
) -> None:
    _start(tmp_path, store)
    try:
        conv = refund_conversation(verify=False)  # refund without verify_identity: a deny rule
        conv["messages"][2]["tool_calls"] = [call("c1", "lookup_order", {"order_id": 7})]
        got = agentdeck.record_conversation(conv, agent="support-bot@1")
        assert got is not None
        assert (got.invalid_calls, got.policy_hits) == (1, 1)
        assert agentdeck.flush(10)
        spans = _spans(store, got.trace_id)
        tools = {s.name: s for s in spans if s.kind is SpanKind.TOOL}
        assert tools["lookup_order"].attributes["tool.args_valid"] is False
        refund = tools["issue_refund"]
        assert refund.attributes["policy.would_deny"] is True
        assert "verify-before-refund" in refund.attributes["policy.rules"]
        assert refund.outputs == {"result": {"refund_id": "R1", "status": "issued"}}  # it happened
        assert "tool.denied" not in refund.attributes
        policy = [s for s in spans if s.kind is SpanKind.POLICY]
        denies = [p for p in policy if p.outputs["effect"] == "deny"]
        assert len(denies) == 1 and denies[0].parent_id == refund.span_id
        assert (denies[0].start_ns, denies[0].end_ns) == (refund.start_ns, refund.end_ns)
        run = store.get_run(got.trace_id)
        assert run is not None and run.denied_calls == 0
    finally:
        sdk.shutdown(timeout=5)


def test_approval_rules_are_recorded_without_asking(tmp_path: Path, store: SqlStore) -> None:
    asked: list[object] = []
    register_example(store)
    agentdeck.init(sink=store, resolver=CachingResolver(Registry(store)), on_full="block",
                   spill_dir=tmp_path / "spill", schedule_delay=0.02,
                   approver=lambda req: asked.append(req) or True)  # fmt: skip
    try:
        got = agentdeck.record_conversation(
            refund_conversation(amount=250.0), agent="support-bot@1"
        )
        assert got is not None and got.policy_hits == 1
        assert asked == []
        assert agentdeck.flush(10)
        refund = next(s for s in _spans(store, got.trace_id) if s.name == "issue_refund")
        assert refund.attributes["policy.rules"] == ["refund-needs-approval"]
    finally:
        sdk.shutdown(timeout=5)


@pytest.mark.parametrize(
    ("messages", "words"),
    [
        ([], "messages"),
        ([{"role": "robot", "content": "x"}], "messages[0].role"),
        ([{"role": "tool", "tool_call_id": "nope", "content": "x"}], "messages[0].tool_call_id"),
        ([{"role": "user", "content": "x", "timestamp": "yesterday"}], "messages[0].timestamp"),
        ([{"role": "user", "content": "x", "timestamp": "2026-01-01T00:00:00"}], "time zone"),
    ],
)
def test_bad_input_raises_a_named_error_and_records_nothing(
    tmp_path: Path, messages: list[dict[str, object]], words: str
) -> None:
    sink = sdk.InMemorySink()
    agentdeck.init(sink=sink, spill_dir=tmp_path / "spill", enforce_policies=False)
    try:
        with pytest.raises(InputError, match=words.replace("[", r"\[").replace("]", r"\]")):
            agentdeck.record_conversation(messages)
        assert agentdeck.flush(5)
        assert len(sink.spans) == 0 and len(sink.runs) == 0
    finally:
        sdk.shutdown(timeout=5)


def test_before_init_it_records_nothing() -> None:
    sdk.shutdown(timeout=5)
    assert agentdeck.record_conversation([{"role": "user", "content": "hi"}]) is None
