"""The ClickHouse trace store beyond the shared trace-store tests (which run on it through the
``trace_store`` fixture): its URL, its selection by ``AGENTDECK_TRACES_URL``, values that
need escaping, the monitor reads of runs, retention, and the server side of the seam."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from agentdeck.core.behaviour.records import RunSummaryRow
from agentdeck.core.errors import InputError, StoreError
from agentdeck.core.trace.model import (
    LinkKind,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
    new_span_id,
    new_trace_id,
)
from agentdeck.store import SqlStore, open_store
from agentdeck.store.clickhouse import ClickHouseTraces, CompositeStore, open_clickhouse_traces
from agentdeck.store.clickhouse.seam import HttpConnection, parse_url
from agentdeck.store.tables import runs as sql_runs

pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")


def _run(tid: str, start: int = 1_000, **kw: object) -> Run:
    base: dict[str, object] = dict(
        trace_id=tid, agent_name="bot", agent_version=1, agent_digest="sha256:aa",
        env="production", deployment_id=None, start_ns=start, end_ns=start + 500,
        status=SpanStatus.OK,
    )  # fmt: skip
    base.update(kw)
    return Run(**base)  # type: ignore[arg-type]


def test_urls_name_the_engine_database_retention_and_cluster() -> None:
    u = parse_url("clickhouse://ann:s%40cret@127.0.0.1:8124/traces?retention_days=30&cluster=c1")
    assert (u.engine, u.host, u.port, u.user, u.password) == (
        "http",
        "127.0.0.1",
        8124,
        "ann",
        "s@cret",
    )
    assert (u.database, u.retention_days, u.cluster, u.secure) == ("traces", 30, "c1", False)
    assert parse_url("clickhouses://127.0.0.1").port == 8443
    assert parse_url("chdb://").path == ":memory:"
    assert parse_url("clickhouse+chdb:///var/lib/ad?database=x").path == "/var/lib/ad"


@pytest.mark.parametrize(
    ("url", "part"),
    [
        ("mysql://127.0.0.1/x", "scheme"),
        ("clickhouse://127.0.0.1/x?retention_days=soon", "retention_days"),
        ("clickhouse://127.0.0.1/x?retention_days=0", "retention_days"),
        ("clickhouse://127.0.0.1/bad;drop", "database"),
        ("chdb://?database=a-b", "database"),
        ("clickhouse://127.0.0.1/x?cluster=a b", "cluster"),
    ],
)
def test_a_bad_url_is_one_line_naming_the_variable(url: str, part: str) -> None:
    with pytest.raises(InputError) as err:
        parse_url(url)
    msg = str(err.value)
    assert msg.startswith("AGENTDECK_TRACES_URL: ") and part in msg and "\n" not in msg


def test_the_traces_url_sends_runs_and_spans_to_clickhouse_and_keeps_the_rest_in_sql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTDECK_TRACES_URL", "chdb://?database=t_env_select")
    store = open_store(f"sqlite:///{tmp_path / 'control.db'}")
    assert isinstance(store, CompositeStore)
    try:
        tid = new_trace_id()
        store.write_batch([_run(tid)], [Span(tid, new_span_id(), None, "x", SpanKind.LLM, 1, 2)])
        assert store.get_run(tid) == _run(tid) and len(store.get_spans(tid)) == 1
        with store.engine.connect() as conn:  # nothing of the trace in the SQL database
            assert conn.execute(select(func.count()).select_from(sql_runs)).scalar() == 0
    finally:
        store.traces.drop()
        store.close()


def test_awkward_values_round_trip(clickhouse_store: SqlStore) -> None:
    tid = new_trace_id()
    weird = "it's a \\ back\tslash\n«ünïcode» 🚀 {x:String} %s ?"
    span = Span(
        tid, new_span_id(), new_span_id(), weird, SpanKind.TOOL, 10, 20, seq=3,
        status=SpanStatus.ERROR, error=weird, inputs={"q": weird, "n": [1, 2.5, None]},
        outputs=weird, attributes={"tool.name": weird, "deep": {"a": [True]}},
        links=(SpanLink(new_trace_id(), new_span_id(), LinkKind.FOLLOWS),),
        usage=TokenUsage(5, 7, 1, 2),
    )  # fmt: skip
    run = _run(tid, input={"q": weird}, output=weird, error=weird, attributes={"k": weird})
    clickhouse_store.write_batch([run], [span])
    assert clickhouse_store.get_spans(tid) == [span]
    got = clickhouse_store.get_run(tid)
    assert got is not None and (got.input, got.output, got.attributes) == (
        run.input,
        weird,
        run.attributes,
    )
    assert [r.trace_id for r in clickhouse_store.find_runs(_query(tool=weird))] == [tid]
    assert clickhouse_store.trace_ids_with_prefix(tid[:8]) == [tid]
    assert clickhouse_store.trace_ids_with_prefix("'") == []


def _query(**kw: object):  # type: ignore[no-untyped-def]
    from agentdeck.core.trace.query import RunQuery

    return RunQuery(**kw)  # type: ignore[arg-type]


def test_monitor_reads_of_runs_use_clickhouse_runs_and_sql_summaries(
    clickhouse_store: SqlStore,
) -> None:
    a, b, c, unfinished = (new_trace_id() for _ in range(4))
    clickhouse_store.write_batch(
        [
            _run(a, 100, attributes={"case": "7"}),
            _run(b, 200, attributes={"case": "8"}),
            _run(c, 300, env="staging"),
            _run(unfinished, 400, end_ns=None),
        ],
        [],
    )
    clickhouse_store.put_run_summaries(
        [RunSummaryRow(a, "bot", "sha256:aa", "production", 100, "{}")]
    )
    assert clickhouse_store.runs_without_summary("bot", "production", None, None) == [b]
    assert set(clickhouse_store.runs_without_summary("bot", None, None, None)) == {b, c}
    assert clickhouse_store.runs_without_summary("bot", None, 250, None, trace_ids=[c, a]) == [c]
    assert clickhouse_store.runs_without_summary("bot", None, None, None, trace_ids=[]) == []
    assert clickhouse_store.trace_ids_with_attribute("case", "8") == [b]
    assert clickhouse_store.trace_ids_with_attribute("case", "8", agent_name="other") == []


def test_retention_days_become_a_ttl_on_both_tables() -> None:
    traces = open_clickhouse_traces("chdb://?database=t_ttl_check&retention_days=14")
    try:
        for table in ("runs", "spans"):
            ddl = traces.conn.rows(f"SHOW CREATE TABLE t_ttl_check.{table}")[0]["statement"]
            assert "TTL" in ddl and "toIntervalDay(14)" in ddl and "ReplacingMergeTree" in ddl
    finally:
        traces.drop()


def test_an_unreachable_clickhouse_server_is_one_line() -> None:
    with pytest.raises(StoreError) as err:
        HttpConnection(parse_url("clickhouse://127.0.0.1:1/x"))
    assert "127.0.0.1:1" in str(err.value) and "\n" not in str(err.value)


def test_traces_are_a_trace_store_of_their_own(clickhouse_store: SqlStore) -> None:
    assert isinstance(clickhouse_store, CompositeStore)
    assert isinstance(clickhouse_store.traces, ClickHouseTraces)
