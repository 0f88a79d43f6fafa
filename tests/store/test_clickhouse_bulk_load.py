"""The scale bench's ClickHouse bulk loader (``bench/scale_bench.py``, ``ch_bulk_grow``) writes
what ``write_batch`` writes: a store of the same 2k runs loaded each way answers every query
the bench times (the list for each filter, counts, the run page by id and by prefix, the
monitor window's runs) the same."""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from agentdeck.core.trace.model import Outcome, SpanStatus
from agentdeck.core.trace.query import RunQuery, next_cursor
from agentdeck.store.clickhouse import ClickHouseTraces, open_clickhouse_traces

pytest.importorskip("chdb", reason="chdb-core is not installed (pip install -e '.[dev]')")

N_RUNS = 2_000


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / "scale_bench.py"
    spec = importlib.util.spec_from_file_location("scale_bench_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stores(bench: ModuleType) -> Iterator[tuple[ClickHouseTraces, ClickHouseTraces]]:
    written = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
    bulk = open_clickhouse_traces(f"chdb://?database=t_{uuid.uuid4().hex[:12]}")
    try:
        for lo in range(0, N_RUNS, bench.BATCH_RUNS):  # as bench.grow does
            made = [bench.make_run(i) for i in range(lo, min(N_RUNS, lo + bench.BATCH_RUNS))]
            written.write_batch([], [s for _, spans in made for s in spans])
            written.write_batch([r for r, _ in made], [])
        bench.CH_BULK_RUNS = 700  # several inserts, as at scale
        bench.ch_bulk_grow(bulk, 0, 1_500)
        bench.ch_bulk_grow(bulk, 1_500, N_RUNS)  # grown, as the bench grows it
        yield written, bulk
    finally:
        written.drop()
        bulk.drop()


QUERIES = {
    "default list": RunQuery(limit=50),
    "all": RunQuery(limit=N_RUNS),
    "status=error": RunQuery(limit=50, status=SpanStatus.ERROR),
    "has_errors": RunQuery(limit=50, has_errors=True),
    "denied": RunQuery(limit=50, denied=True),
    "outcome=failure": RunQuery(limit=50, outcome=Outcome.FAILURE),
    "agent": RunQuery(limit=50, agent_name="billing-bot"),
    "env": RunQuery(limit=50, env="staging"),
    "agent+version": RunQuery(limit=50, agent_name="billing-bot", agent_version=2),
    "tool": RunQuery(limit=50, tool="lookup_order"),
    "page 100 (offset)": RunQuery(limit=10, offset=990),
}


@pytest.mark.parametrize("name", QUERIES)
def test_the_list_and_its_count_are_the_same(
    stores: tuple[ClickHouseTraces, ClickHouseTraces], name: str
) -> None:
    written, bulk = stores
    q = QUERIES[name]
    got = bulk.find_runs(q)
    assert got and got == written.find_runs(q)
    assert bulk.count_runs(q) == written.count_runs(q)


def test_paging_by_cursor_is_the_same(stores: tuple[ClickHouseTraces, ClickHouseTraces]) -> None:
    pages = []
    for store in stores:
        cursor = None
        for _ in range(99):
            cursor = next_cursor(store.find_runs(RunQuery(limit=10, after=cursor)), 10)
        pages.append(store.find_runs(RunQuery(limit=10, after=cursor)))
    assert pages[0] and pages[0] == pages[1]


def test_the_run_page_and_the_window_are_the_same(
    bench: ModuleType, stores: tuple[ClickHouseTraces, ClickHouseTraces]
) -> None:
    written, bulk = stores
    for i in (0, 97, 230, N_RUNS // 2, N_RUNS - 1):  # a denied run, a failed one, others
        tid = bench._tid(i)
        assert bulk.get_run(tid) is not None and bulk.get_run(tid) == written.get_run(tid)
        assert bulk.get_spans(tid) == written.get_spans(tid)
        assert len(bulk.get_spans(tid)) == bench.SPANS_PER_RUN
        assert bulk.trace_ids_with_prefix(tid[:12]) == written.trace_ids_with_prefix(tid[:12])
        assert bulk.get_runs_with_spans([tid]) == written.get_runs_with_spans([tid])
    for agent, env in (("support-bot", "production"), ("billing-bot", None)):
        args = (agent, env, bench.NOW_NS - 3600 * 10**9, bench.NOW_NS + 1, None, None)
        assert bulk.window_trace_ids(*args) == written.window_trace_ids(*args)
        assert bulk.window_trace_ids(*args)
    for group in ("agent", "version", "env", "day"):  # the runs' sums (float sums in any order)
        got, want = ({t.key: t for t in s.cost_totals(group)} for s in (bulk, written))
        assert got.keys() == want.keys()
        for key, total in want.items():
            assert got[key] == replace(total, cost_usd=pytest.approx(total.cost_usd)), key
