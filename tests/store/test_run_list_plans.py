"""Every list of runs is served by an index, on both backends: the plan (SQLite ``EXPLAIN
QUERY PLAN``, PostgreSQL ``EXPLAIN``) of the default list, each filter, a page after a cursor
and a prefix lookup reads an index range, with no full scan of ``runs`` and no sort, and the
tool filter never reads ``spans``. Keyset paging returns every run exactly once across pages
while new runs arrive, ties in start time included."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.sql import Select

from agentdeck.core.trace.model import (
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanStatus,
    new_span_id,
    new_trace_id,
)
from agentdeck.core.trace.query import RunCursor, RunQuery, next_cursor, prefix_range
from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine
from agentdeck.store.sql_traces import run_list_sql
from agentdeck.store.tables import runs
from foundation import root_conftest

TOOLS = ("search", "send_email", "refund", "lookup", "rare_tool")
RUNS = 20_000


def _load(store: SqlStore, n: int = RUNS, seed: int = 7) -> list[Run]:
    """``n`` runs with 3 spans each: a spread of agents, envs, versions, statuses and tools."""
    rng = random.Random(seed)
    made: list[Run] = []
    spans: list[Span] = []
    for i in range(n):
        tid = new_trace_id()
        start = 1_000_000 + i * 1_000
        tool_status = SpanStatus.ERROR if i % 20 == 0 else SpanStatus.OK
        tools = [TOOLS[rng.randrange(4)], "rare_tool" if i % 500 == 0 else TOOLS[rng.randrange(4)]]
        for seq, name in enumerate(tools):
            spans.append(
                Span(tid, new_span_id(), None, name, SpanKind.TOOL, start + seq, start + seq + 1,
                     seq=seq + 1, status=tool_status if seq == 0 else SpanStatus.OK,
                     attributes={"tool.name": name, **({"tool.denied": True} if i % 50 == 0 else {})})
            )  # fmt: skip
        spans.append(Span(tid, new_span_id(), None, "chat", SpanKind.LLM, start, start + 5, seq=0))
        made.append(
            Run(
                trace_id=tid, agent_name=f"agent{i % 5}", agent_version=1 + i % 3,
                agent_digest=f"sha256:{i % 7}", env=("dev", "staging", "production")[i % 3],
                deployment_id=None, start_ns=start, end_ns=start + 10,
                status=SpanStatus.ERROR if i % 10 == 0 else SpanStatus.OK,
                outcome=(Outcome.SUCCESS, Outcome.FAILURE, None)[i % 3],
            )
        )  # fmt: skip
    for i in range(0, n, 1000):
        store.write_batch([], spans[i * 3 : (i + 1000) * 3])
        store.write_batch(made[i : i + 1000], [])
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return made


CURSOR = RunCursor(1_000_000 + RUNS // 2 * 1_000, "8" * 32)
QUERIES: dict[str, RunQuery] = {
    "default": RunQuery(limit=50),
    "status": RunQuery(status=SpanStatus.ERROR, limit=50),
    "has_errors": RunQuery(has_errors=True, limit=50),
    "denied": RunQuery(denied=True, limit=50),
    "outcome": RunQuery(outcome=Outcome.FAILURE, limit=50),
    "agent": RunQuery(agent_name="agent3", limit=50),
    "env": RunQuery(env="staging", limit=50),
    "version": RunQuery(agent_name="agent3", agent_version=2, limit=50),
    "digest": RunQuery(agent_digest="sha256:3", limit=50),
    "tool": RunQuery(tool="refund", limit=50),
    "rare tool": RunQuery(tool="rare_tool", limit=50),
    "since": RunQuery(since_ns=2_000_000, limit=50),
}
QUERIES.update({f"{k}, after a cursor": RunQuery(**{**v.__dict__, "after": CURSOR})
                for k, v in list(QUERIES.items())})  # fmt: skip


def _plan(store: SqlStore, q: Select[Any]) -> list[str]:
    with store.engine.connect() as conn:
        sql = str(q.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            return [str(r[3]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        return [str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}")]


def _assert_indexed(store: SqlStore, q: Select[Any], what: str, sort_ok: bool = False) -> None:
    """An index range, no full scan, no spans, and no sort unless ``sort_ok`` (PostgreSQL may
    sort the few matches of a rare tool it found by index: bounded by those matches)."""
    plan = _plan(store, q)
    shown = "\n".join(plan)
    assert "spans" not in shown, f"{what}: reads spans\n{shown}"
    if store.engine.dialect.name == "sqlite":
        assert not any("TEMP B-TREE" in line for line in plan), f"{what}: sorts\n{shown}"
        for line in plan:
            if line.startswith("SCAN") or line.startswith("SEARCH"):
                assert "INDEX" in line, f"{what}: full scan\n{shown}"
        assert any("INDEX" in line for line in plan), f"{what}: no index\n{shown}"
    else:
        assert "Seq Scan" not in shown, f"{what}: full scan\n{shown}"
        assert sort_ok or not any(line.lstrip(" ->").startswith(("Sort", "Incremental Sort"))
                                  for line in plan), f"{what}: sorts\n{shown}"  # fmt: skip
        assert "Index" in shown, f"{what}: no index\n{shown}"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlStore]:
    """A store of :data:`RUNS` runs per backend, loaded once for the plan tests (a planner
    chooses by size: PostgreSQL sorts a few hundred rows rather than walk an index)."""
    conftest = root_conftest(request.config)
    if request.param == "sqlite":
        store = SqlStore(create_store_engine(f"sqlite:///{tmp_path_factory.mktemp('plans')}/p.db"))
        _load(store)
        yield store
        store.close()
        return
    conftest.require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(conftest.PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    store = SqlStore(create_store_engine(conftest.PG_URL, schema=schema))
    try:
        _load(store)
        yield store
    finally:
        store.close()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("name", list(QUERIES))
def test_each_list_query_reads_an_index_without_sorting(loaded: SqlStore, name: str) -> None:
    store = loaded
    _assert_indexed(store, run_list_sql(QUERIES[name]), name, sort_ok=name.startswith("rare"))


def test_prefix_lookup_is_a_range_of_the_primary_key(loaded: SqlStore) -> None:
    store = loaded
    with store.engine.connect() as conn:
        want = conn.execute(select(runs.c.trace_id).limit(1)).scalar_one()
    low, high = prefix_range(want[:8])
    assert high is not None
    q = select(runs.c.trace_id).where(runs.c.trace_id >= low, runs.c.trace_id < high)
    _assert_indexed(store, q.order_by(runs.c.trace_id).limit(3), "prefix")
    assert want in store.trace_ids_with_prefix(want[:8])
    assert store.trace_ids_with_prefix(want) == [want]


def test_prefix_range_bounds() -> None:
    assert prefix_range("ab") == ("ab", "ac")
    assert prefix_range("a\U0010ffff") == ("a\U0010ffff", "b")
    assert prefix_range("\U0010ffff") == ("\U0010ffff", None)
    assert prefix_range("") == ("", None)
    assert prefix_range("\ud7ff") == ("\ud7ff", "\ue000")


def test_prefix_lookup_with_like_characters(store: SqlStore) -> None:
    odd = ["ab%_cd" + "0" * 26, "ab%_ce" + "0" * 26, "abx_cd" + "0" * 26]
    store.write_batch(
        [Run(t, "bot", 1, None, None, None, 1_000, 2_000, SpanStatus.OK) for t in odd], []
    )
    assert sorted(store.trace_ids_with_prefix("ab%_c")) == odd[:2]
    assert store.trace_ids_with_prefix("ab%_cd") == [odd[0]]


def _page_all(store: SqlStore, query: RunQuery, arrive: Any = None) -> list[str]:
    seen: list[str] = []
    cursor: RunCursor | None = None
    for _ in range(10_000):
        page = store.find_runs(RunQuery(**{**query.__dict__, "after": cursor}))
        seen.extend(r.trace_id for r in page)
        cursor = next_cursor(page, query.limit)
        if cursor is None:
            return seen
        cursor = RunCursor.decode(cursor.encode())  # through its opaque form, as clients do
        if arrive is not None:
            arrive()
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("query", [RunQuery(limit=7), RunQuery(tool="refund", limit=7),
                                   RunQuery(status=SpanStatus.ERROR, limit=3)],
                         ids=["default", "tool", "status"])  # fmt: skip
def test_cursor_paging_returns_every_run_once_while_runs_arrive(
    store: SqlStore, query: RunQuery
) -> None:
    made = _load(store, 200)
    # runs sharing a start time: the id breaks the tie
    ties = [
        Run(new_trace_id(), "bot", 1, None, None, None, made[100].start_ns, None,
            SpanStatus.ERROR)
        for _ in range(9)
    ]  # fmt: skip
    tie_spans = [
        Span(r.trace_id, new_span_id(), None, "refund", SpanKind.TOOL, r.start_ns, r.start_ns + 1,
             attributes={"tool.name": "refund"})
        for r in ties
    ]  # fmt: skip
    store.write_batch(ties, tie_spans)
    before = [r.trace_id for r in store.find_runs(RunQuery(**{**query.__dict__, "limit": 10_000}))]
    assert len(before) > 3 * query.limit

    def arrive() -> None:  # a newer run, with the same tools, between two pages
        r = Run(
            new_trace_id(),
            "bot",
            1,
            None,
            None,
            None,
            10**12 + len(arrived),
            None,
            SpanStatus.ERROR,
        )
        arrived.append(r.trace_id)
        store.write_batch([r], [Span(r.trace_id, new_span_id(), None, "refund", SpanKind.TOOL,
                                     r.start_ns, r.start_ns + 1,
                                     attributes={"tool.name": "refund"})])  # fmt: skip

    arrived: list[str] = []
    seen = _page_all(store, query, arrive)
    assert arrived
    assert len(seen) == len(set(seen))
    assert seen == before  # every run there when paging began, once, in order; none newer


def test_tool_filter_follows_the_run_start_whatever_the_arrival_order(store: SqlStore) -> None:
    """Tool spans before their run (the SDK's order) and a provisional run widened later: the
    tool filter orders and pages by the run's start, as the list without filter does."""
    tids = [new_trace_id() for _ in range(6)]
    # spans first, starting later than the runs that come after them
    store.write_batch([], [
        Span(t, new_span_id(), None, "refund", SpanKind.TOOL, 5_000 + i, 5_001 + i,
             attributes={"tool.name": "refund"})
        for i, t in enumerate(tids)
    ])  # fmt: skip
    store.write_batch(
        [Run(t, "bot", 1, None, None, None, 100 * (6 - i), None, SpanStatus.OK)
         for i, t in enumerate(tids)], []
    )  # fmt: skip
    everyone = [r.trace_id for r in store.find_runs(RunQuery())]
    assert [r.trace_id for r in store.find_runs(RunQuery(tool="refund"))] == everyone
    assert _page_all(store, RunQuery(tool="refund", limit=2)) == everyone
    assert store.find_runs(RunQuery(tool="nope")) == []


def test_a_bad_cursor_is_an_input_error_naming_it() -> None:
    from agentdeck.core.errors import InputError

    for bad in ("", "zzz", "!!", RunCursor(-1, "x").encode(), "MTIz"):
        with pytest.raises(InputError, match=r"^query\.cursor: "):
            RunCursor.decode(bad, "query.cursor")
    c = RunCursor(123, "ab" * 16)
    assert RunCursor.decode(c.encode()) == c


def test_upgrading_fills_run_tools_from_the_stored_spans(
    request: pytest.FixtureRequest, tmp_path: Any
) -> None:
    """Runs and tool spans stored before 0012_run_indexes are found by the tool filter after
    it, in the list's order (the migration back-fills ``run_tools`` with each run's start)."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import column, insert, inspect, table

    from agentdeck.store import migrate as migrate_mod
    from agentdeck.store.sql_traces import span_row
    from agentdeck.store.tables import spans as spans_table

    for backend in ("sqlite", "postgres"):
        if backend == "sqlite":
            engine = create_store_engine(f"sqlite:///{tmp_path / 'old.db'}")
        else:
            engine = create_store_engine(
                root_conftest(request.config).PG_URL, schema=request.getfixturevalue("pg_schema")
            )
        cfg = Config()
        cfg.set_main_option("script_location", migrate_mod.script_location())
        with engine.connect().execution_options(agentdeck_write=True) as conn, conn.begin():
            cfg.attributes["connection"] = conn
            for rev in sorted(
                migrate_mod.script_heads() - {"0012_run_indexes"} | {"0010_run_summary"}
            ):
                command.upgrade(cfg, rev)
        assert "run_tools" not in inspect(engine).get_table_names()
        tids = [new_trace_id() for _ in range(3)]
        with engine.begin() as conn:
            for i, tid in enumerate(tids):
                row = {"trace_id": tid, "agent_name": "bot", "start_ns": 1_000 * (i + 1),
                       "status": "ok"}  # fmt: skip
                conn.execute(insert(table("runs", *(column(c) for c in row))).values(**row))
            conn.execute(insert(spans_table), [
                span_row(Span(t, new_span_id(), None, "refund", SpanKind.TOOL, 5_000, 5_001,
                              attributes={"tool.name": "refund"}))
                for t in tids[:2]
            ])  # fmt: skip
        upgraded = SqlStore(engine)
        assert [r.trace_id for r in upgraded.find_runs(RunQuery(tool="refund"))] == [
            tids[1],
            tids[0],
        ]
        names = {ix["name"] for ix in inspect(engine).get_indexes("spans")}
        assert "ix_spans_tool_name" not in names
        upgraded.close()


def _generic_plan(store: SqlStore, q: Select[Any]) -> list[str]:
    """The plan of ``q`` prepared with its parameters unbound (PostgreSQL: a generic plan,
    what the plan cache of a prepared statement switches to after five executions; SQLite:
    ``EXPLAIN QUERY PLAN`` of the statement before its values are bound)."""
    with store.engine.connect() as conn:
        compiled = q.compile(dialect=conn.dialect)
        sql, params = str(compiled), compiled.params
        if conn.dialect.name == "sqlite":
            raw = conn.connection.dbapi_connection
            assert raw is not None
            marks = sql.replace("?", "NULL")  # no value bound: the plan cannot rely on one
            return [str(r[3]) for r in raw.execute(f"EXPLAIN QUERY PLAN {marks}")]
        names = list(params)
        for i, name in enumerate(names, 1):
            sql = sql.replace(f"%({name})s", f"${i}")
        conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        conn.exec_driver_sql(f"PREPARE generic_q AS {sql}")
        values = ", ".join(f"'{params[n]}'" for n in names)
        try:
            return [str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN EXECUTE generic_q({values})")]
        finally:
            conn.exec_driver_sql("DEALLOCATE generic_q")
            conn.exec_driver_sql("RESET plan_cache_mode")


@pytest.mark.parametrize(
    ("name", "index"),
    [("denied", "ix_runs_denied_start"), ("has_errors", "ix_runs_tool_errors_start")],
)
def test_partial_index_filters_read_their_index_under_a_generic_plan(
    loaded: SqlStore, name: str, index: str
) -> None:
    """The denied and has-errors filters read their partial index even when the plan is made
    without the parameters' values: their ``> 0`` is in the SQL text, so it matches the index's
    predicate (with a bound 0, PostgreSQL's generic plan walked ``ix_runs_start`` and filtered
    every run down to the 50th denied one)."""
    plan = _generic_plan(loaded, run_list_sql(QUERIES[name]))
    shown = "\n".join(plan)
    assert index in shown, f"{name}: not read from {index}\n{shown}"
    assert "Filter" not in shown, f"{name}: filters rows\n{shown}"
