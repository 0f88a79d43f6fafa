"""Services take the narrow store protocol they use (issue 13, point 6), and it is enough.

Each service runs on a real store (SQLite and PostgreSQL) seen only through the protocol its
signature names, so a method the protocol lacks fails here with AttributeError.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime

import pytest

from agentdeck.policy.simulate import select_runs
from agentdeck.registry.audit import verify_audit
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.queries import find_trace_id, load_trace
from agentdeck.tracing.sdk import api as sdk
from foundation import make_spec
from narrow_store import is_narrower_than_store, narrow, store_annotation


def test_registry_runs_on_its_narrow_protocol(store: SqlStore) -> None:
    proto = store_annotation(Registry.__init__)
    assert is_narrower_than_store(proto)
    reg = Registry(narrow(store, proto))
    v1, created = reg.register_agent(make_spec(prompt="one"), "alice")
    reg.register_agent(make_spec(prompt="two"), "alice")
    assert created and v1.version == 1
    assert reg.get("bot@1").digest == v1.digest
    assert [v.version for v in reg.versions("bot")] == [1, 2]


def test_audit_verify_runs_on_its_narrow_protocol(store: SqlStore) -> None:
    Registry(store).register_agent(make_spec(), "alice")
    proto = store_annotation(verify_audit)
    assert is_narrower_than_store(proto)
    report = verify_audit(narrow(store, proto))
    assert report.ok and report.entries == 1


def test_trace_queries_run_on_the_trace_store(store: SqlStore) -> None:
    sink = sdk.InMemorySink()
    sdk.init(sink=sink, schedule_delay=0.01)
    try:
        with sdk.run(agent=None, input={"q": "hi"}), sdk.span("lookup"):
            pass
        assert sdk.flush(timeout=30)
    finally:
        sdk.shutdown()
    store.write_batch(sink.runs, sink.spans)
    tid = sink.runs[0].trace_id
    for func in (find_trace_id, load_trace, select_runs):
        assert is_narrower_than_store(store_annotation(func))
    traces = narrow(store, store_annotation(load_trace))
    assert find_trace_id(traces, tid[:10]) == tid
    trace = load_trace(traces, tid)
    assert trace.run is not None and {s.name for s in trace.spans} >= {"lookup"}


def test_records_live_in_core_and_store_protocol_re_exports_them() -> None:
    from agentdeck.core.access import records as access
    from agentdeck.core.behaviour import records as behaviour
    from agentdeck.core.policy import records as policy
    from agentdeck.core.trace import query
    from agentdeck.core.trace import records as trace
    from agentdeck.store import protocol

    homes = {
        "AlertRecord": behaviour, "BaselineRecord": behaviour, "FindingRecord": behaviour,
        "RunSummaryRow": behaviour, "ApprovalRecord": policy, "PolicyTestRecord": policy,
        "ReplayReportRecord": trace, "RunQuery": query, "ApiKeyRecord": access,
        "SessionRecord": access,
    }  # fmt: skip
    for name, module in homes.items():
        cls = getattr(module, name)
        assert cls.__module__ == module.__name__, name
        assert getattr(protocol, name) is cls, name
    now = datetime.now(UTC)
    row = behaviour.RunSummaryRow("t", "bot", None, None, 1, "{}")
    with pytest.raises(FrozenInstanceError):
        row.summary = "x"  # type: ignore[misc]
    session = access.SessionRecord("h", "k", now, now, now)
    assert [f.name for f in fields(session)][:2] == ["token_hash", "key_id"]


def test_replay_eval_and_rca_name_narrow_protocols() -> None:
    from agentdeck.evals.runner import EvalService
    from agentdeck.tracing.analysis.rca import root_cause
    from agentdeck.tracing.replay.engine import compare, reproduce
    from agentdeck.tracing.replay.recording import load_recording

    for func in (EvalService.__init__, root_cause, reproduce, compare, load_recording):
        assert is_narrower_than_store(store_annotation(func)), func.__qualname__
