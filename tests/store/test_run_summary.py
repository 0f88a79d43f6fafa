"""A run's summary in the store, on both backends: failed and denied tool calls counted from
the spans whatever their arrival order, the outcome stored, the filters of ``find_runs``, and
the migration that adds the columns counting the runs already stored."""

from __future__ import annotations

from typing import Any

from migration_support import alembic
from sqlalchemy import column, insert, inspect, table, text
from sqlalchemy.engine import Engine

from agentdeck.core.trace.model import (
    PROVISIONAL,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanStatus,
    new_span_id,
    new_trace_id,
)
from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore
from agentdeck.store import migrate as migrate_mod
from agentdeck.store.sql_traces import span_row
from agentdeck.store.tables import spans as spans_table


def _run(trace_id: str, start: int = 1_000, **kw: Any) -> Run:
    base: dict[str, Any] = dict(
        trace_id=trace_id, agent_name="bot", agent_version=1, agent_digest="sha256:aa",
        env="production", deployment_id=None, start_ns=start, end_ns=start + 1_000,
        status=SpanStatus.OK,
    )  # fmt: skip
    base.update(kw)
    return Run(**base)


def _span(
    trace_id: str, kind: SpanKind = SpanKind.TOOL, status: SpanStatus = SpanStatus.OK,
    denied: bool = False, seq: int = 0,
) -> Span:  # fmt: skip
    attrs: dict[str, Any] = {"tool.name": "send_email"} if kind is SpanKind.TOOL else {}
    if denied:
        attrs.update({"tool.denied": True, "policy.rules": ["no-refund"]})
    return Span(
        trace_id, new_span_id(), None, f"{kind.value} {seq}", kind, 1_000 + seq, 1_001 + seq,
        seq=seq, status=status, error="boom" if status is SpanStatus.ERROR else None,
        attributes=attrs,
    )  # fmt: skip


def _mixed(tid: str) -> list[Span]:
    """Three failed tool calls (one of them denied), one ok tool call, a failed LLM call."""
    E = SpanStatus.ERROR
    return [
        _span(tid, status=E, seq=1),
        _span(tid, seq=2),
        _span(tid, status=E, denied=True, seq=3),
        _span(tid, status=E, seq=4),
        _span(tid, SpanKind.LLM, status=E, seq=5),
    ]


def _counts(store: SqlStore, tid: str) -> tuple[int, int]:
    r = store.get_run(tid)
    assert r is not None
    return r.tool_errors, r.denied_calls


def test_failed_and_denied_tool_calls_are_counted_in_one_batch(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    spans = _mixed(tid)
    trace_store.write_batch([_run(tid)], spans)
    assert _counts(trace_store, tid) == (3, 1)
    trace_store.write_batch([_run(tid)], spans[:2])  # a re-sent batch: each span counted once
    assert _counts(trace_store, tid) == (3, 1)


def test_counts_do_not_depend_on_arrival_order(trace_store: SqlStore) -> None:
    spans_first, run_first = new_trace_id(), new_trace_id()
    a, b = _mixed(spans_first), _mixed(run_first)
    trace_store.write_batch([], a[:3])
    trace_store.write_batch([], a[3:])
    trace_store.write_batch([_run(spans_first)], [])  # the SDK sends the run after its spans
    trace_store.write_batch([_run(run_first)], [])
    assert _counts(trace_store, run_first) == (0, 0)
    trace_store.write_batch([], b[:2])
    trace_store.write_batch([], b[2:])  # late spans update the stored run
    trace_store.write_batch([], b)  # and re-sending them changes nothing
    assert _counts(trace_store, spans_first) == _counts(trace_store, run_first) == (3, 1)


def test_a_provisional_run_is_counted_and_the_real_run_keeps_the_counts(
    trace_store: SqlStore,
) -> None:
    tid = new_trace_id()
    spans = _mixed(tid)
    prov = _run(tid, agent_name=None, attributes={PROVISIONAL: True})
    trace_store.write_batch([], spans[:2], provisional=[prov])
    assert _counts(trace_store, tid) == (1, 0)
    trace_store.write_batch([], spans[2:], provisional=[prov])
    assert _counts(trace_store, tid) == (3, 1)
    trace_store.write_batch([_run(tid, outcome=Outcome.FAILURE)], [])  # the root arrives
    got = trace_store.get_run(tid)
    assert got is not None and not got.provisional
    assert (got.tool_errors, got.denied_calls, got.outcome) == (3, 1, Outcome.FAILURE)


def test_outcome_round_trips(trace_store: SqlStore) -> None:
    tid = new_trace_id()
    run = _run(tid, outcome=Outcome.SUCCESS, outcome_score=0.75, outcome_reason="refunded")
    trace_store.write_batch([run], [])
    assert trace_store.get_run(tid) == run
    bare = new_trace_id()
    trace_store.write_batch([_run(bare)], [])
    got = trace_store.get_run(bare)
    assert got is not None
    assert (got.outcome, got.outcome_score, got.outcome_reason) == (None, None, None)


def test_find_runs_filters_on_status_errors_denials_and_outcome(trace_store: SqlStore) -> None:
    E = SpanStatus.ERROR
    ids = {name: new_trace_id() for name in ("clean", "raised", "tool_err", "denied", "won")}
    trace_store.write_batch(
        [
            _run(ids["clean"], 1_000),
            _run(ids["raised"], 2_000, status=E, error="ValueError: x"),
            _run(ids["tool_err"], 3_000, outcome=Outcome.FAILURE),
            _run(ids["denied"], 4_000),
            _run(ids["won"], 5_000, outcome=Outcome.SUCCESS, outcome_score=1.0),
        ],
        [
            _span(ids["tool_err"], status=E),
            _span(ids["denied"], status=E, denied=True),
            _span(ids["clean"]),
        ],
    )

    def found(**kw: Any) -> list[str]:
        names = {v: k for k, v in ids.items()}
        return [
            names[r.trace_id] for r in trace_store.find_runs(RunQuery(**kw)) if r.trace_id in names
        ]

    assert found(status=SpanStatus.ERROR) == ["raised"]
    assert found(status=SpanStatus.OK) == ["won", "denied", "tool_err", "clean"]
    assert found(has_errors=True) == ["denied", "tool_err"]  # a denied call failed too
    assert found(has_errors=False) == ["won", "raised", "clean"]
    assert found(denied=True) == ["denied"]
    assert found(denied=False) == ["won", "tool_err", "raised", "clean"]
    assert found(outcome=Outcome.SUCCESS) == ["won"]
    assert found(outcome=Outcome.FAILURE) == ["tool_err"]
    assert found(status=SpanStatus.OK, has_errors=True, outcome=Outcome.FAILURE) == ["tool_err"]


def test_the_summary_indexes_exist(store: SqlStore) -> None:
    names = {ix["name"] for ix in inspect(store.engine).get_indexes("runs")}
    assert {
        "ix_runs_status_start", "ix_runs_outcome_start", "ix_runs_tool_errors_start",
        "ix_runs_denied_start",
    } <= names  # fmt: skip


def test_sqlite_serves_the_has_errors_filter_from_its_partial_index(
    sqlite_store: SqlStore,
) -> None:
    with sqlite_store.engine.connect() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE tool_errors > 0"
                " ORDER BY start_ns DESC LIMIT 50"
            )
        )
    assert "ix_runs_tool_errors_start" in plan


# -- the migration counts the runs already stored ---------------------------------------------

_NEW = "0010_run_summary"
_NEXT = "0012_run_indexes"


def test_the_revision_chains_after_the_runs_table() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    rev = ScriptDirectory.from_config(cfg).get_revision(_NEW)
    assert rev is not None and rev.down_revision == "0002"
    after = ScriptDirectory.from_config(cfg).get_revision(_NEXT)
    assert after is not None and after.down_revision == _NEW  # the runs list's indexes
    assert _before_new(migrate_mod.script_heads()) != migrate_mod.script_heads()


def _before_new(heads: frozenset[str]) -> frozenset[str]:
    """The heads without the branch that holds ``_NEW`` (later revisions may chain after it),
    and ``0002`` in its place: the schema just before ``_NEW``."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    script = ScriptDirectory.from_config(cfg)

    def holds_new(head: str) -> bool:
        return any(r.revision == _NEW for r in script.iterate_revisions(head, "base"))

    return frozenset({h for h in heads if not holds_new(h)} | {"0002"})


def _below_new() -> str:
    """The downgrade target that undoes ``_NEW`` and what chains after it on its branch."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", migrate_mod.script_location())
    script = ScriptDirectory.from_config(cfg)
    for head in migrate_mod.script_heads():
        chain = [r.revision for r in script.iterate_revisions(head, "base")]
        if _NEW in chain:
            return f"{head}@-{chain.index(_NEW) + 1}"
    raise AssertionError(f"no head holds {_NEW}")


def test_upgrading_counts_the_runs_already_stored(bare_engine: Engine) -> None:
    from alembic import command

    previous = _before_new(migrate_mod.script_heads())
    alembic(bare_engine, command.upgrade, *sorted(previous))
    assert "tool_errors" not in {c["name"] for c in inspect(bare_engine).get_columns("runs")}
    tid = new_trace_id()
    row = {
        "trace_id": tid, "agent_name": "bot", "start_ns": 1_000, "end_ns": 2_000,
        "status": "ok",
    }  # fmt: skip
    with bare_engine.begin() as conn:  # rows as the old schema held them
        conn.execute(insert(table("runs", *(column(c) for c in row))).values(**row))
        old = [{k: v for k, v in span_row(s).items() if k != "cost_usd"} for s in _mixed(tid)]
        conn.execute(insert(spans_table), old)  # (cost_usd: a later revision)

    upgraded = SqlStore(bare_engine)  # opening the store migrates to every head
    assert migrate_mod.current_revisions(bare_engine) == migrate_mod.script_heads()
    assert _counts(upgraded, tid) == (3, 1)
    got = upgraded.get_run(tid)
    assert got is not None and got.outcome is None

    alembic(bare_engine, command.downgrade, _below_new())  # and back: the rows stay
    assert "tool_errors" not in {c["name"] for c in inspect(bare_engine).get_columns("runs")}
    with bare_engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT trace_id FROM runs"))] == [tid]
