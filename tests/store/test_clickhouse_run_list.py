"""The ClickHouse runs list read in order from its index (``runs_by_time``, ``run_versions``):
the same runs, in the same order, as the query on the whole ``runs FINAL`` table it replaces
(kept here as the reference), for every filter, offset and cursor, through provisional runs
widened and replaced, re-sent batches, tool spans that come late and writes cut short; the
index filled for a store made before it; and the rows a list reads bounded whatever the
store's size."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from clickhouse_support import rows_read

from agentdeck.core.errors import StoreError
from agentdeck.core.trace.model import (
    PROVISIONAL,
    Outcome,
    Run,
    Span,
    SpanKind,
    SpanStatus,
    new_span_id,
)
from agentdeck.core.trace.query import RunCount, RunCursor, RunQuery, next_cursor
from agentdeck.store.clickhouse import ClickHouseTraces, open_clickhouse_traces
from agentdeck.store.clickhouse.run_list import run_filters
from agentdeck.store.clickhouse.schema import backfill_index, create_schema
from agentdeck.store.clickhouse.seam import parse_url
from agentdeck.store.clickhouse.traces import _to_run

pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")

TOOLS = ("search_kb", "issue_refund", "escalate")


@pytest.fixture
def traces() -> Iterator[ClickHouseTraces]:
    t = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
    yield t
    t.drop()


def _reference_where(t: ClickHouseTraces, q: RunQuery) -> tuple[str, dict[str, Any]]:
    """The list's conditions on ``runs FINAL`` before the index (the tool by its spans)."""
    where, params = run_filters(q)
    if q.after is not None:
        where.append("(start_ns, trace_id) < ({a_start:Int64}, {a_tid:String})")
        params.update(a_start=q.after.start_ns, a_tid=q.after.trace_id)
    if q.tool is not None:
        where.append(
            f"trace_id IN (SELECT trace_id FROM {t.database}.spans WHERE tool_name = {{tool:String}})"
        )
        params["tool"] = q.tool
    return (" WHERE " + " AND ".join(where) if where else ""), params


def reference_runs(t: ClickHouseTraces, q: RunQuery) -> list[Run]:
    where, params = _reference_where(t, q)
    params.update(lim=q.limit, off=q.offset)
    rows = t.conn.rows(
        f"SELECT * EXCEPT ver FROM {t.database}.runs FINAL{where}"
        " ORDER BY start_ns DESC, trace_id DESC LIMIT {lim:UInt64} OFFSET {off:UInt64}",
        params,
    )
    return [_to_run(r) for r in rows]


def reference_count(t: ClickHouseTraces, q: RunQuery) -> int:
    where, params = _reference_where(t, replace(q, after=None))
    return int(
        t.conn.rows(f"SELECT count() AS n FROM {t.database}.runs FINAL{where}", params)[0]["n"]
    )


def _span(
    tid: str, start: int, tool: str | None, *, error: bool = False, denied: bool = False
) -> Span:
    attrs: dict[str, object] = {}
    if tool is not None:
        attrs["tool.name"] = tool
    if denied:
        attrs["tool.denied"] = True
    return Span(
        tid, new_span_id(), None, tool or "llm", SpanKind.TOOL if tool else SpanKind.LLM,
        start, start + 10, status=SpanStatus.ERROR if error else SpanStatus.OK,
        attributes=attrs,
    )  # fmt: skip


def _messy_store(t: ClickHouseTraces, n: int = 90, seed: int = 7) -> list[str]:
    """Runs of every kind of filter value, written the ways the ingest path writes them:
    provisional first (widened to an earlier start), replaced by the real run at another
    start, batches sent twice, spans (tool names among them) before and after their run,
    several runs at one start time."""
    rnd = random.Random(seed)
    tids = [uuid.UUID(int=rnd.getrandbits(128)).hex for _ in range(n)]
    for i, tid in enumerate(tids):
        start = 1_000_000 + rnd.randrange(0, 40) * 1_000  # ties on purpose
        run = Run(
            trace_id=tid,
            agent_name=rnd.choice(("support-bot", "billing-bot", None)),
            agent_version=rnd.choice((1, 2)),
            agent_digest=rnd.choice(("sha256:aa", "sha256:bb")),
            env=rnd.choice(("production", "staging")),
            deployment_id=None,
            start_ns=start,
            end_ns=start + 500,
            status=rnd.choice((SpanStatus.OK, SpanStatus.ERROR)),
            outcome=rnd.choice((None, Outcome.SUCCESS, Outcome.FAILURE)),
            session_id=rnd.choice((None, "s1", "s2")),
            user_id=rnd.choice((None, "u1", "u2")),
        )
        spans = [
            _span(tid, start + 1 + k, rnd.choice((*TOOLS, None)), error=rnd.random() < 0.3,
                  denied=rnd.random() < 0.2)
            for k in range(rnd.randrange(0, 4))
        ]  # fmt: skip
        way = i % 5
        if way == 0:  # provisional, widened, then the real run at another start
            prov = replace(
                run, start_ns=start + 5_000, status=SpanStatus.OK, attributes={PROVISIONAL: True}
            )
            t.write_batch([], spans[:1], provisional=[prov])
            t.write_batch([], [], provisional=[replace(prov, start_ns=start + 2_000)])
            t.write_batch([run], spans[1:])
        elif way == 1:  # sent twice
            t.write_batch([run], spans)
            t.write_batch([run], spans)
        elif way == 2:  # spans first, the run later, a tool span after the run
            t.write_batch([], spans)
            t.write_batch([run], [])
            t.write_batch([], [_span(tid, start + 50, rnd.choice(TOOLS))])
        elif way == 3:  # a provisional run that stays provisional, widened earlier
            prov = replace(run, attributes={PROVISIONAL: True})
            t.write_batch([], spans, provisional=[prov])
            t.write_batch([], [], provisional=[replace(prov, start_ns=start - 3_000)])
        else:
            t.write_batch([run], spans)
    return tids


def _queries(tids: list[str]) -> list[RunQuery]:
    base = [
        RunQuery(),
        RunQuery(status=SpanStatus.ERROR),
        RunQuery(status=SpanStatus.OK),
        RunQuery(has_errors=True),
        RunQuery(has_errors=False),
        RunQuery(denied=True),
        RunQuery(denied=False),
        RunQuery(outcome=Outcome.FAILURE),
        RunQuery(outcome=Outcome.SUCCESS),
        RunQuery(agent_name="support-bot"),
        RunQuery(env="staging"),
        RunQuery(agent_name="billing-bot", agent_version=2),
        RunQuery(agent_digest="sha256:bb"),
        RunQuery(session_id="s1"),
        RunQuery(user_id="u2"),
        RunQuery(since_ns=1_010_000, until_ns=1_030_000),
        RunQuery(until_ns=1_001_000),
        RunQuery(tool="issue_refund"),
        RunQuery(tool="escalate", status=SpanStatus.ERROR),
        RunQuery(tool="nope"),
        RunQuery(env="production", has_errors=True, denied=False, outcome=Outcome.SUCCESS),
    ]
    out = []
    for q in base:
        out += [
            replace(q, limit=100),
            replace(q, limit=3),
            replace(q, limit=4, offset=5),
            replace(q, limit=5, after=RunCursor(1_020_000, tids[0])),
        ]
    return out


@pytest.fixture(scope="module")
def messy() -> Iterator[tuple[ClickHouseTraces, list[str]]]:
    """One store of :func:`_messy_store` for the tests that only read it."""
    t = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
    yield t, _messy_store(t)
    t.drop()


def test_the_list_is_the_whole_table_query_for_every_filter(
    messy: tuple[ClickHouseTraces, list[str]],
) -> None:
    traces, tids = messy
    for q in _queries(tids):
        assert traces.find_runs(q) == reference_runs(traces, q), q
        assert traces.count_runs(q, cap=10_000) == RunCount(reference_count(traces, q)), q


def test_the_monitor_window_is_the_whole_table_query(
    messy: tuple[ClickHouseTraces, list[str]],
) -> None:
    traces, tids = messy
    for agent, env, since, until, digest, ids in (
        ("support-bot", None, None, None, None, None),
        ("support-bot", "production", 1_010_000, 1_030_000, None, None),
        ("billing-bot", "staging", 1_000_000, None, "sha256:aa", None),
        ("billing-bot", None, None, 1_020_000, None, tids[::2]),
    ):
        where = ["agent_name = {a:String}", "end_ns IS NOT NULL"]
        for cond, value in (
            ("env = {e:String}", env),
            ("start_ns >= {s:Int64}", since),
            ("start_ns < {u:Int64}", until),
            ("agent_digest = {d:String}", digest),
            ("trace_id IN {i:Array(String)}", ids),
        ):
            if value is not None:
                where.append(cond)
        rows = traces.conn.rows(
            f"SELECT trace_id FROM {traces.database}.runs FINAL WHERE {' AND '.join(where)}"
            " ORDER BY start_ns, trace_id",
            {"a": agent, "e": env, "s": since, "u": until, "d": digest, "i": ids},
        )
        got = traces.window_trace_ids(agent, env, since, until, digest, ids)
        assert got and got == [r["trace_id"] for r in rows], (agent, env, since, until)


def test_paging_by_cursor_lists_every_run_once_in_order(
    messy: tuple[ClickHouseTraces, list[str]],
) -> None:
    traces, _ = messy
    for q in (
        RunQuery(limit=4),
        RunQuery(limit=3, status=SpanStatus.ERROR),
        RunQuery(limit=2, tool="search_kb"),
    ):
        pages: list[Run] = []
        cursor: RunCursor | None = None
        while True:
            page = traces.find_runs(replace(q, after=cursor))
            pages += page
            cursor = next_cursor(page, q.limit)
            if cursor is None:
                break
        assert pages == reference_runs(traces, replace(q, limit=10_000))
        assert len({r.trace_id for r in pages}) == len(pages)


def test_a_run_rewritten_at_another_start_is_listed_once_where_it_is_now(
    traces: ClickHouseTraces,
) -> None:
    tid, other = uuid.uuid4().hex, uuid.uuid4().hex
    real = Run(tid, "bot", 1, None, "production", None, 4_000, 4_500, SpanStatus.ERROR)
    prov = replace(real, start_ns=9_000, status=SpanStatus.OK, attributes={PROVISIONAL: True})
    traces.write_batch(
        [Run(other, "bot", 1, None, "production", None, 6_000, 6_100, SpanStatus.OK)], []
    )
    traces.write_batch([], [], provisional=[prov])
    traces.write_batch([], [], provisional=[replace(prov, start_ns=7_000)])  # widened
    assert [r.start_ns for r in traces.find_runs(RunQuery())] == [7_000, 6_000]
    traces.write_batch([real], [])  # replaced: later than the other run now
    assert [(r.trace_id, r.start_ns) for r in traces.find_runs(RunQuery())] == [
        (other, 6_000),
        (tid, 4_000),
    ]
    assert [r.trace_id for r in traces.find_runs(RunQuery(status=SpanStatus.OK))] == [other]
    assert traces.find_runs(RunQuery(since_ns=6_500)) == []
    assert traces.count_runs(RunQuery()) == RunCount(2)
    traces.write_batch([real], [])  # sent again: nothing new
    assert [r.trace_id for r in traces.find_runs(RunQuery())] == [other, tid]
    traces.write_batch([], [_span(tid, 4_100, "late_tool")])  # a tool span after its run
    assert [r.trace_id for r in traces.find_runs(RunQuery(tool="late_tool"))] == [tid]


def test_a_count_beyond_the_cap_is_an_estimate_or_a_bound(traces: ClickHouseTraces) -> None:
    _messy_store(traces, n=30)
    assert traces.count_runs(RunQuery(), cap=100) == RunCount(30)
    unfiltered = traces.count_runs(RunQuery(), cap=10)
    assert unfiltered.kind == "estimate" and unfiltered.n >= 11
    assert traces.count_runs(RunQuery(env="production"), cap=3) == RunCount(3, "at_least")


def test_a_store_made_before_the_index_gets_it_filled_on_open(traces: ClickHouseTraces) -> None:
    tids = _messy_store(traces, n=40)
    db = traces.database
    for table in ("runs_by_time", "run_versions"):  # as a store made before them
        traces.conn.command(f"DROP TABLE {db}.{table}")
    reopened = open_clickhouse_traces(f"chdb://?database={db}")
    for q in _queries(tids):
        assert reopened.find_runs(q) == reference_runs(reopened, q), q
    assert not backfill_index(reopened.conn, parse_url(f"chdb://?database={db}"))  # filled once
    # a fill cut short (run_versions still empty) starts again
    reopened.conn.command(f"TRUNCATE TABLE {db}.run_versions")
    assert backfill_index(reopened.conn, parse_url(f"chdb://?database={db}"))
    assert reopened.find_runs(RunQuery(limit=1000)) == reference_runs(
        reopened, RunQuery(limit=1000)
    )


class _Recorder:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def command(self, sql: str, params: object = None) -> None:
        self.sql.append(sql)

    def rows(self, sql: str, params: object = None) -> list[dict[str, Any]]:
        self.sql.append(sql)
        return []

    def insert(self, table: str, rows: object) -> None: ...

    def close(self) -> None: ...


def test_the_index_tables_take_the_cluster_and_the_retention() -> None:
    conn = _Recorder()
    create_schema(conn, parse_url("clickhouse://h/traces?cluster=c1&retention_days=9"))
    made = [s for s in conn.sql if s.startswith("CREATE TABLE")]
    assert {s.split()[5].split(".")[1] for s in made} == {
        "runs",
        "spans",
        "runs_by_time",
        "run_versions",
    }
    for ddl in made:
        assert "ON CLUSTER c1" in ddl and "ReplicatedReplacingMergeTree" in ddl
        assert "INTERVAL 9 DAY" in ddl


# -- the rows a list reads, at two sizes ---------------------------------------------------


def _fill_by_sql(t: ClickHouseTraces, n: int, parts: int = 20) -> None:
    """``n`` runs (a tool span each) in bulk, to the index in ``parts`` inserts of older runs
    each (parts left unmerged), as a store loaded over time: one run every 1 000 ns; 10 %
    errors, 5 % denied, three tools in turn."""
    db = t.database
    t.conn.command(
        f"INSERT INTO {db}.runs (trace_id, agent_name, agent_version, env, start_ns, end_ns,"
        " status, tool_errors, denied_calls, ver) SELECT lower(hex(MD5(toString(number)))),"
        " ['support-bot', 'billing-bot', 'ops-bot'][number % 3 + 1], 1 + number % 2,"
        " 'production', number * 1000, number * 1000 + 500,"
        " if(number % 10 = 0, 'error', 'ok'), if(number % 10 = 0, 1, 0),"
        f" if(number % 20 = 0, 1, 0), 1 FROM numbers({n})"
    )
    t.conn.command(
        f"INSERT INTO {db}.spans (trace_id, span_id, seq, name, kind, tool_name, start_ns,"
        " end_ns, status) SELECT lower(hex(MD5(toString(number)))), 's', 1, 'tool', 'tool',"
        " ['search_kb', 'issue_refund', 'escalate'][number % 3 + 1], number * 1000 + 1,"
        f" number * 1000 + 2, 'ok' FROM numbers({n})"
    )
    t.conn.command(f"SYSTEM STOP MERGES {db}.runs_by_time")
    for k in range(parts):
        t.conn.command(
            f"INSERT INTO {db}.runs_by_time (trace_id, agent_name, agent_version, env,"
            " start_ns, end_ns, status, tool_errors, denied_calls, ver, tools)"
            " SELECT lower(hex(MD5(toString(number)))),"
            " ['support-bot', 'billing-bot', 'ops-bot'][number % 3 + 1], 1 + number % 2,"
            " 'production', number * 1000, number * 1000 + 500,"
            " if(number % 10 = 0, 'error', 'ok'), if(number % 10 = 0, 1, 0),"
            " if(number % 20 = 0, 1, 0), 1,"
            " [['search_kb', 'issue_refund', 'escalate'][number % 3 + 1]]"
            f" FROM numbers({n - (k + 1) * n // parts}, {n // parts})"
        )
    got = t.conn.rows(
        f"SELECT count() AS n FROM system.parts WHERE database = '{db}'"
        " AND table = 'runs_by_time' AND active"
    )
    assert int(got[0]["n"]) == parts


def _rows_read(
    t: ClickHouseTraces, monkeypatch: pytest.MonkeyPatch, q: RunQuery
) -> tuple[int, int]:
    """(rows read by ``find_runs(q)``, by ``count_runs(q)``) as ClickHouse counts them."""
    return (
        rows_read(monkeypatch, lambda: t.find_runs(q)),
        rows_read(monkeypatch, lambda: t.count_runs(q, cap=100)),
    )


SCALE_QUERIES = {
    "default": RunQuery(limit=50),
    "status": RunQuery(limit=50, status=SpanStatus.ERROR),
    "denied": RunQuery(limit=50, denied=True),
    "agent+version": RunQuery(limit=50, agent_name="billing-bot", agent_version=2),
    "tool": RunQuery(limit=50, tool="escalate"),
    "cursor": RunQuery(limit=10, after=RunCursor(15_000 * 1000, "f" * 32)),
}


def test_a_list_reads_as_many_rows_at_400k_runs_as_at_20k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes = (20_000, 400_000)
    read: dict[int, dict[str, tuple[int, int]]] = {}
    for n in sizes:
        t = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
        try:
            _fill_by_sql(t, n)
            for name, q in SCALE_QUERIES.items():  # the list is the list on runs
                assert t.find_runs(q) == reference_runs(t, q), name
            # the cursor as many runs from the newest at both sizes
            shift = (n - sizes[0]) * 1000
            read[n] = {
                name: _rows_read(
                    t,
                    monkeypatch,
                    replace(q, after=replace(q.after, start_ns=q.after.start_ns + shift))
                    if q.after
                    else q,
                )
                for name, q in SCALE_QUERIES.items()
            }
        finally:
            t.drop()
    small, large = read[sizes[0]], read[sizes[1]]
    for name in SCALE_QUERIES:
        # the newest blocks of the index, a few thousand rows, at either size (the list on
        # the whole runs table read every run: 400k)
        for at_small, at_large in zip(small[name], large[name], strict=True):
            assert at_large <= 1.5 * at_small + 4096 and at_large < sizes[1] // 20, (name, read)


@pytest.mark.parametrize("cut", ["runs_by_time", "runs"])
def test_a_write_cut_short_leaves_the_run_listed_once_after_its_next_write(
    traces: ClickHouseTraces, monkeypatch: pytest.MonkeyPatch, cut: str
) -> None:
    tid = uuid.uuid4().hex
    real = Run(tid, "bot", 1, None, "production", None, 4_000, 4_500, SpanStatus.OK)
    prov = replace(real, start_ns=9_000, attributes={PROVISIONAL: True})
    traces.write_batch([], [], provisional=[prov])
    insert = traces.conn.insert

    def failing(table: str, rows: Any) -> None:
        if table == f"{traces.database}.{cut}":
            raise StoreError("cut short")
        insert(table, rows)

    monkeypatch.setattr(traces.conn, "insert", failing)
    with pytest.raises(StoreError):  # widened to 7 000: cut short
        traces.write_batch([], [], provisional=[replace(prov, start_ns=7_000)])
    monkeypatch.setattr(traces.conn, "insert", insert)
    traces.write_batch([real], [])
    assert [(r.trace_id, r.start_ns) for r in traces.find_runs(RunQuery())] == [(tid, 4_000)]
