"""Sessions and users on runs, on both backends: stored, filtered, kept when a real run
replaces a provisional one, filled in when spans naming them arrive after the run, and the
first value known stays whatever the order."""

from __future__ import annotations

import itertools
from dataclasses import replace

from agentdeck.core.trace.model import PROVISIONAL, Run, SpanStatus, new_trace_id
from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore


def _run(tid: str, start: int = 100, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=tid,
        agent_name="support-bot",
        agent_version=None,
        agent_digest=None,
        env=None,
        deployment_id=None,
        start_ns=start,
        end_ns=start + 10,
        status=SpanStatus.OK,
    )
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def _provisional(tid: str, **kw: object) -> Run:
    return _run(tid, agent_name=None, attributes={PROVISIONAL: True}, **kw)


def test_session_and_user_are_stored_and_filtered(store: SqlStore) -> None:
    a, b, c = new_trace_id(), new_trace_id(), new_trace_id()
    store.write_batch(
        [
            _run(a, 100, session_id="conv-1", user_id="alice"),
            _run(b, 200, session_id="conv-1", user_id="bob"),
            _run(c, 300, session_id="conv-2", user_id="alice"),
        ],
        [],
    )
    got = store.get_run(a)
    assert got is not None and (got.session_id, got.user_id) == ("conv-1", "alice")
    by_session = store.find_runs(RunQuery(session_id="conv-1"))
    assert [r.trace_id for r in by_session] == [b, a]
    assert [r.trace_id for r in store.find_runs(RunQuery(user_id="alice"))] == [c, a]
    both = store.find_runs(RunQuery(session_id="conv-1", user_id="bob"))
    assert [r.trace_id for r in both] == [b]
    assert store.find_runs(RunQuery(session_id="nope")) == []


def test_real_run_keeps_what_a_provisional_run_learnt(store: SqlStore) -> None:
    tid = new_trace_id()
    store.write_batch([], [], provisional=[_provisional(tid, session_id="s-9", user_id="u-9")])
    store.write_batch([_run(tid)], [])
    got = store.get_run(tid)
    assert got is not None and not got.provisional
    assert (got.agent_name, got.session_id, got.user_id) == ("support-bot", "s-9", "u-9")


def test_spans_after_the_real_run_fill_the_session_in(store: SqlStore) -> None:
    tid = new_trace_id()
    store.write_batch([_run(tid)], [])
    # a later request with child spans only: its provisional run is dropped, its ids are not
    store.write_batch([], [], provisional=[_provisional(tid, session_id="late", user_id=None)])
    store.write_batch([], [], provisional=[_provisional(tid, user_id="u-late")])
    got = store.get_run(tid)
    assert got is not None and not got.provisional
    assert (got.session_id, got.user_id) == ("late", "u-late")


def test_outcome_is_the_same_in_any_order(store: SqlStore) -> None:
    batches = [
        ([_run("x")], []),
        ([], [_provisional("x", session_id="s-1")]),
        ([], [_provisional("x", user_id="u-1")]),
    ]
    for order in itertools.permutations(batches):
        tid = new_trace_id()
        for runs_, prov in order:
            store.write_batch(
                [replace(r, trace_id=tid) for r in runs_],
                [],
                provisional=[replace(r, trace_id=tid) for r in prov],
            )
        got = store.get_run(tid)
        assert got is not None and not got.provisional, order
        assert (got.agent_name, got.session_id, got.user_id) == ("support-bot", "s-1", "u-1")


def test_migration_adds_the_columns_and_their_indexes(store: SqlStore) -> None:
    from sqlalchemy import inspect

    from agentdeck.store import migrate

    insp = inspect(store.engine)
    columns = {c["name"] for c in insp.get_columns("runs")}
    assert {"session_id", "user_id"} <= columns
    indexes = {i["name"]: i["column_names"] for i in insp.get_indexes("runs")}
    assert indexes["ix_runs_session_start"] == ["session_id", "start_ns"]
    assert indexes["ix_runs_user_start"] == ["user_id", "start_ns"]
    heads = migrate.script_heads()
    assert "0013_run_sessions" in heads or "0016_run_cost" in heads  # (0016 builds on it)
