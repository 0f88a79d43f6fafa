"""Search queries are served by indexes, on both backends: the plan of an attribute, tag or
metadata term reads ``ix_run_attrs_key_value``, a text term the full-text index (SQLite's FTS5
``search_fts``, PostgreSQL's GIN ``ix_search_docs_fts``), fields the list already indexes
(user, agent, env...) their ``runs`` index; none scans a table whole, and none reads spans."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.query import RunQuery
from agentdeck.core.trace.search_plan import search_query
from agentdeck.store import SqlStore
from agentdeck.store.engine import create_store_engine
from agentdeck.store.sql_run_list import run_list_sql
from agentdeck.store.sql_search import _probe_sql, probe_terms
from foundation import root_conftest
from store.test_run_list_plans import _plan

RUNS = 20_000


def _load(store: SqlStore) -> None:
    for lo in range(0, RUNS, 1000):
        runs, spans = [], []
        for i in range(lo, lo + 1000):
            tid = f"{i:032x}"
            start = 1_000_000 + i * 1000
            runs.append(Run(tid, f"agent{i % 5}", 1, None, ("dev", "prod")[i % 2], None, start,
                            start + 10 + i % 100, SpanStatus.OK, input=f"question number {i}",
                            user_id=f"u-{i % 2000}",
                            attributes={"tags": ["vip" if i % 10 == 0 else "std"],
                                        "metadata": {"tier": ("gold", "silver")[i % 2]},
                                        "customer.id": f"c-{i}"}))  # fmt: skip
            spans.append(Span(tid, f"{i:016x}", None, "lookup", SpanKind.TOOL, start, start + 5,
                              inputs={"args": {"order": f"ord-{i}"}},
                              outputs={"result": "shipped" if i % 3 else "lost parcel"}))  # fmt: skip
        store.write_batch(runs, spans)
    with store.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SqlStore]:
    conftest = root_conftest(request.config)
    if request.param == "sqlite":
        store = SqlStore(create_store_engine(f"sqlite:///{tmp_path_factory.mktemp('sp')}/s.db"))
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


# query -> (the index each backend's plan must name, matches in the first page). Where many
# runs match, PostgreSQL may rather walk ``ix_runs_start`` newest first and probe each run by
# key (``run_attrs_pkey``, ``uq_search_docs_trace_span``), stopping after 50 matches: a plan
# as good, so there (None) any plan without a full scan passes.
CASES: dict[str, tuple[str, str | None, int]] = {
    "attr.customer.id:c-777": ("ix_run_attrs_key_value", "ix_run_attrs_key_value", 1),
    "tag:vip": ("run_attrs", None, 50),
    "metadata.tier:gold": ("run_attrs", None, 50),
    "ord-777": ("search_fts", "ix_search_docs_fts", 1),
    "lost": ("search_fts", None, 50),
    "questi*": ("search_fts", None, 50),
    '"question number 777"': ("search_fts", "ix_search_docs_fts", 1),
    "user:u-70 tag:vip": ("ix_runs_user_start", "ix_runs_user_start", 10),
    "agent:agent3 lost": ("ix_runs_agent_start", None, 50),
}


def _probe_plans(store: SqlStore, probed: dict[object, object]) -> str:
    """The plans of the bounded probes :func:`probe_terms` ran (one per term)."""
    out = []
    with store.engine.connect() as conn:
        for node in probed:
            sql, args = _probe_sql(conn, node)  # type: ignore[arg-type,misc]
            if store.engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", args)
                out += [str(r[3]) for r in rows]
            else:
                out += [str(r[0]) for r in conn.exec_driver_sql(f"EXPLAIN {sql}", args)]
    return "\n".join(out)


@pytest.mark.parametrize("q", list(CASES))
def test_search_query_plan_reads_indexes(loaded: SqlStore, q: str) -> None:
    """The list's plan (after the bounded probes of its attribute and text terms: a rare term
    becomes the ids of its runs, a dense one a check per run) reads no table whole and sorts
    no dense match set; the named index serves the list or a probe."""
    sqlite_index, pg_index, hits = CASES[q]
    query = search_query(RunQuery(limit=50), q)
    with loaded.engine.connect() as conn:
        probed = probe_terms(conn, query.search)
    plan = _plan(loaded, run_list_sql(query, dense=probed))
    shown = "\n".join(plan)
    both = shown + "\n" + _probe_plans(loaded, probed)  # type: ignore[arg-type]
    assert "spans" not in both.replace("search_fts", ""), f"{q}: reads spans\n{both}"
    if loaded.engine.dialect.name == "sqlite":
        assert sqlite_index in both, f"{q}: not through {sqlite_index}\n{both}"
        for line in plan:
            if line.startswith("SCAN") and "VIRTUAL TABLE" not in line:
                assert "INDEX" in line, f"{q}: full scan\n{shown}"
        if None in probed.values():  # many matches: walked newest first, no sort of them all
            assert "TEMP B-TREE FOR ORDER BY" not in shown, f"{q}: sorts every match\n{shown}"
    else:
        assert pg_index is None or pg_index in both, f"{q}: not through {pg_index}\n{both}"
        assert "Seq Scan" not in shown, f"{q}: full scan\n{shown}"
    assert len(loaded.find_runs(query)) == hits
