"""A run read by id or prefix on ClickHouse (the run page: ``trace_ids_with_prefix``,
``get_run``, ``get_spans``) reads a bounded number of rows whatever the store's size:
``runs`` and ``spans`` in small granules (:data:`~agentdeck.store.clickhouse.schema.GRANULARITY`),
a granule of each part. A store made with ClickHouse's default granules is rebuilt on open."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from clickhouse_support import rows_read

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.store.clickhouse import ClickHouseTraces, open_clickhouse_traces
from agentdeck.store.clickhouse.schema import GRANULARITY, regranulate
from agentdeck.store.clickhouse.seam import parse_url

pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")

PARTS = 20
_TID = "lower(hex(MD5(toString(number))))"


def _fill(t: ClickHouseTraces, n: int) -> None:
    """``n`` runs of 3 spans each in ``PARTS`` inserts (merges stopped: as many parts at any
    size), the ids spread over the key space as random ones."""
    db = t.database
    for table in ("runs", "spans"):
        t.conn.command(f"SYSTEM STOP MERGES {db}.{table}")
    for k in range(PARTS):
        rows = f"numbers({k * n // PARTS}, {n // PARTS})"
        t.conn.command(
            f"INSERT INTO {db}.runs (trace_id, agent_name, env, start_ns, end_ns, status,"
            f" input, output, tool_errors, denied_calls, ver) SELECT {_TID}, 'support-bot',"
            " 'production', number * 1000, number * 1000 + 500, 'ok',"
            ' concat(\'{"q":"\', toString(number), \'"}\'), \'{"a":"shipped"}\', 0, 0, 1'
            f" FROM {rows}"
        )
        t.conn.command(
            f"INSERT INTO {db}.spans (trace_id, span_id, seq, name, kind, tool_name, start_ns,"
            f" end_ns, status, inputs) SELECT {_TID}, toString(s), s, 'step', 'tool',"
            " 'search_kb', number * 1000 + s, number * 1000 + s + 1, 'ok',"
            " concat('{\"order\":\"', toString(number), '\"}')"
            f" FROM {rows} ARRAY JOIN [1, 2, 3] AS s"
        )
    for table in ("runs", "spans"):
        got = t.conn.rows(
            f"SELECT count() AS n FROM system.parts WHERE database = '{db}'"
            f" AND table = '{table}' AND active"
        )
        assert int(got[0]["n"]) == PARTS


def _lookups_read(t: ClickHouseTraces, tid: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    return {
        "by prefix": rows_read(monkeypatch, lambda: t.trace_ids_with_prefix(tid[:12])),
        "run": rows_read(monkeypatch, lambda: t.get_run(tid)),
        "spans": rows_read(monkeypatch, lambda: t.get_spans(tid)),
    }


def _tid(t: ClickHouseTraces, number: int) -> str:
    return str(t.conn.rows(f"SELECT lower(hex(MD5(toString({number})))) AS t")[0]["t"])


def test_a_run_page_reads_as_many_rows_at_200k_runs_as_at_20k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sizes = (20_000, 200_000)
    read: dict[int, dict[str, int]] = {}
    for n in sizes:
        t = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
        try:
            _fill(t, n)
            tid = _tid(t, n // 2 + 7)
            assert t.trace_ids_with_prefix(tid[:12]) == [tid]
            run = t.get_run(tid)
            assert run is not None and run.start_ns == (n // 2 + 7) * 1000
            assert [s.seq for s in t.get_spans(tid)] == [1, 2, 3]
            read[n] = _lookups_read(t, tid, monkeypatch)
        finally:
            t.drop()
    small, large = read[sizes[0]], read[sizes[1]]
    for name in small:
        # a granule (two, where the run's rows cross a boundary) of each part, at either
        # size; with 8,192-row granules the large store read ~8k rows a part (160k)
        granule = GRANULARITY["spans" if name == "spans" else "runs"]
        assert large[name] <= 2 * small[name], (name, read)
        assert large[name] <= 2 * PARTS * granule, (name, read)


def _run(tid: str, start: int) -> tuple[Run, list[Span]]:
    spans = [
        Span(tid, f"{tid[:12]}{k:04x}", None, "search_kb", SpanKind.TOOL, start + k, start + k + 1,
             seq=k, status=SpanStatus.ERROR if k == 2 else SpanStatus.OK,
             attributes={"tool.name": "search_kb"})
        for k in range(3)
    ]  # fmt: skip
    run = Run(
        trace_id=tid, agent_name="support-bot", agent_version=1, agent_digest=None,
        env="production", deployment_id=None, start_ns=start, end_ns=start + 10,
        status=SpanStatus.OK, input={"q": tid}, output=None, root_span_id=None,
    )  # fmt: skip
    return run, spans


def _granularity(t: ClickHouseTraces, table: str) -> str:
    got = t.conn.rows(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        {"db": t.database, "t": table},
    )
    return str(got[0]["engine_full"])


def test_a_store_made_with_the_default_granules_is_rebuilt_on_open() -> None:
    db = f"t_{uuid.uuid4().hex[:12]}"
    t = open_clickhouse_traces(f"chdb://?database={db}")
    try:
        made = [_run(uuid.uuid4().hex, 1_000_000 * i) for i in range(30)]
        t.write_batch([r for r, _ in made], [s for _, spans in made for s in spans])
        before = [(t.get_run(r.trace_id), t.get_spans(r.trace_id)) for r, _ in made]
        listed = t.find_runs(RunQuery(limit=100))
        for table, order in (("runs", "ReplacingMergeTree(ver) ORDER BY trace_id"),
                             ("spans", "ReplacingMergeTree ORDER BY (trace_id, span_id)")):  # fmt: skip
            # as made before the setting: ClickHouse's default granules
            t.conn.command(f"CREATE TABLE {db}.old AS {db}.{table} ENGINE = {order}")
            t.conn.command(f"INSERT INTO {db}.old SELECT * FROM {db}.{table}")
            t.conn.command(f"EXCHANGE TABLES {db}.{table} AND {db}.old")
            t.conn.command(f"DROP TABLE {db}.old")
            assert "index_granularity = 8192" in _granularity(t, table)
        # and a copy left by a rebuild cut short
        t.conn.command(f"CREATE TABLE {db}.runs_regranulate AS {db}.runs")
        t.conn.command(f"INSERT INTO {db}.runs_regranulate SELECT * FROM {db}.runs LIMIT 3")

        reopened = open_clickhouse_traces(f"chdb://?database={db}")
        for table in ("runs", "spans"):
            assert f"index_granularity = {GRANULARITY[table]}," in _granularity(reopened, table)
        tables = {r["name"] for r in reopened.conn.rows(f"SHOW TABLES FROM {db}")}
        assert tables == {"runs", "spans", "runs_by_time", "run_versions"}
        after = [(reopened.get_run(r.trace_id), reopened.get_spans(r.trace_id)) for r, _ in made]
        assert after == before and before[0][0] is not None and before[0][0].tool_errors == 1
        assert reopened.find_runs(RunQuery(limit=100)) == listed
        assert not regranulate(  # rebuilt once
            reopened.conn,
            parse_url(f"chdb://?database={db}"),
            "runs",
            lambda url, name: "",
            [],
        )
    finally:
        t.drop()


def test_a_run_written_while_the_rebuild_copies_is_kept() -> None:
    """Another process's write lands in the old table after the rebuild listed its parts
    (simulated: the write runs just before the first copy's INSERT): the rebuilt table has it."""
    from agentdeck.store.clickhouse import schema

    db = f"t_{uuid.uuid4().hex[:12]}"
    t = open_clickhouse_traces(f"chdb://?database={db}")
    try:
        first = _run(uuid.uuid4().hex, 1_000_000)
        t.write_batch([first[0]], first[1])
        t.conn.command(f"CREATE TABLE {db}.old AS {db}.runs ENGINE = ReplacingMergeTree(ver) "
                       "ORDER BY trace_id")  # fmt: skip
        t.conn.command(f"INSERT INTO {db}.old SELECT * FROM {db}.runs")
        t.conn.command(f"EXCHANGE TABLES {db}.runs AND {db}.old")
        t.conn.command(f"DROP TABLE {db}.old")
        late = _run(uuid.uuid4().hex, 2_000_000)
        conn = t.conn

        class Concurrent:
            """The connection, with another writer's insert just before the first copy."""

            wrote = False

            def command(self, sql: str, params: Any = None) -> None:
                if sql.startswith(f"INSERT INTO {db}.runs_regranulate") and not self.wrote:
                    self.wrote = True
                    t.write_batch([late[0]], late[1])  # a new part the copy did not list
                conn.command(sql, params)

            def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
                return conn.rows(sql, params)

        seam = Concurrent()
        url = parse_url(f"chdb://?database={db}")
        cols = [*(n for n, _ in schema.RUN_COLUMNS), "ver"]
        assert schema.regranulate(seam, url, "runs", schema._runs_ddl, cols)  # type: ignore[arg-type]
        assert seam.wrote
        assert f"index_granularity = {GRANULARITY['runs']}," in _granularity(t, "runs")
        for run, _ in (first, late):
            got = t.get_run(run.trace_id)
            assert got is not None and got.start_ns == run.start_ns
        count = t.conn.rows(f"SELECT count() AS n FROM {db}.runs FINAL")
        assert int(count[0]["n"]) == 2
    finally:
        t.drop()
