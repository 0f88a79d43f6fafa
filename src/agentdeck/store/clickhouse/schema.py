"""The ClickHouse tables of the trace store, created on first use (``IF NOT EXISTS``).

- ``spans``: ``ReplacingMergeTree`` ordered by ``(trace_id, span_id)``: a re-sent span is
  stored once (read with ``FINAL``), a run's spans are one contiguous range, and a bloom
  filter on ``tool_name`` serves the tool filter.
- ``runs``: ``ReplacingMergeTree(ver)`` ordered by ``trace_id``: each write of a run is a new
  version (a provisional run widened, replaced by the real run, its counts updated) and reads
  with ``FINAL`` see the newest. Min-max and set skip indexes on ``start_ns``, ``agent_name``,
  ``status``, ``env`` and ``outcome`` prune parts for the list filters.
- ``runs_by_time``: the runs list's index, each run (its columns, ``ver`` and ``tools``, the
  tool names of its spans) ordered by ``(start_ns, trace_id)``, so a list reads the newest
  rows in order and stops (:mod:`.run_list`); ``ReplacingMergeTree(ver, deleted)``: a newer
  version at the same start replaces the row, a run that moved leaves a ``deleted`` row.
- ``run_versions``: where each run is in ``runs_by_time`` (``start_ns``, ``ver``, ``tools``),
  ordered by ``trace_id``: what a write reads to move a run or add to its tools.
- ``runs`` and ``spans`` are read by ``trace_id`` (a run page, a prefix) in small granules
  (:data:`GRANULARITY`, small compressed blocks): such a read takes a granule of each part,
  a few hundred rows, whatever the store's size.
- Stores made before the two index tables get them filled from ``runs`` and ``spans`` on open
  (:func:`backfill_index`); ``runs`` and ``spans`` made with ClickHouse's default granules
  are rebuilt with the small ones on open (:func:`regranulate`).
- Retention: ``retention_days=N`` in the URL adds ``TTL`` on the start time to every table.
- A cluster: ``cluster=NAME`` adds ``ON CLUSTER NAME`` and uses the ``Replicated*`` engines.
"""

from __future__ import annotations

from collections.abc import Callable

from agentdeck.store.clickhouse.seam import ChConnection, TracesUrl

__all__ = [
    "GRANULARITY",
    "RUN_COLUMNS",
    "SPAN_COLUMNS",
    "backfill_index",
    "create_schema",
    "regranulate",
]

GRANULARITY = {"runs": 128, "spans": 256}
"""Rows per granule of the tables ordered by ``trace_id``: a run read by id (or prefix) reads a
granule of each part, so the granule is kept small (ClickHouse's default, 8,192 rows, made a
run page read ~8k rows a part: slower as parts grow in number). 256 spans are ~28 runs'."""

RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("trace_id", "String"),
    ("agent_name", "Nullable(String)"),
    ("agent_version", "Nullable(Int64)"),
    ("agent_digest", "Nullable(String)"),
    ("env", "Nullable(String)"),
    ("deployment_id", "Nullable(String)"),
    ("start_ns", "Int64"),
    ("end_ns", "Nullable(Int64)"),
    ("status", "LowCardinality(String)"),
    ("error", "Nullable(String)"),
    ("input", "Nullable(String)"),
    ("output", "Nullable(String)"),
    ("root_span_id", "Nullable(String)"),
    ("attributes", "Nullable(String)"),
    ("tool_errors", "Int64"),
    ("denied_calls", "Int64"),
    ("outcome", "LowCardinality(Nullable(String))"),
    ("outcome_score", "Nullable(Float64)"),
    ("outcome_reason", "Nullable(String)"),
    ("session_id", "Nullable(String)"),
    ("user_id", "Nullable(String)"),
    ("canary_arm", "LowCardinality(Nullable(String))"),  # the canary arm (stable | candidate)
    ("input_tokens", "Int64"),
    ("output_tokens", "Int64"),
    ("total_tokens", "Int64"),
    ("cost_usd", "Nullable(Float64)"),
    ("unpriced_calls", "Int64"),
)

SPAN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("trace_id", "String"),
    ("span_id", "String"),
    ("parent_id", "Nullable(String)"),
    ("seq", "Int64"),
    ("name", "String"),
    ("kind", "LowCardinality(String)"),
    ("tool_name", "Nullable(String)"),
    ("start_ns", "Int64"),
    ("end_ns", "Int64"),
    ("status", "LowCardinality(String)"),
    ("error", "Nullable(String)"),
    ("inputs", "Nullable(String)"),
    ("outputs", "Nullable(String)"),
    ("attributes", "Nullable(String)"),
    ("links", "Nullable(String)"),
    ("input_tokens", "Nullable(Int64)"),
    ("output_tokens", "Nullable(Int64)"),
    ("usage", "Nullable(String)"),
    ("cost_usd", "Nullable(Float64)"),
)

ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("runs", "input_tokens", "Int64 DEFAULT 0"),
    ("runs", "output_tokens", "Int64 DEFAULT 0"),
    ("runs", "total_tokens", "Int64 DEFAULT 0"),
    ("runs", "cost_usd", "Nullable(Float64)"),
    ("runs", "unpriced_calls", "Int64 DEFAULT 0"),
    ("spans", "cost_usd", "Nullable(Float64)"),
)
"""Columns added after the first release (tokens and cost): added to existing tables."""


def _cols(cols: tuple[tuple[str, str], ...]) -> str:
    return ",\n  ".join(f"{name} {typ}" for name, typ in cols)


def create_schema(conn: ChConnection, url: TracesUrl) -> None:
    db = url.database
    on_cluster, replicated, ttl = _clauses(url)
    conn.command(f"CREATE DATABASE IF NOT EXISTS {db}{on_cluster}")
    conn.command(_runs_ddl(url, "runs"))
    # tables made before the canary arm was a column
    conn.command(
        f"ALTER TABLE {db}.runs{on_cluster} ADD COLUMN IF NOT EXISTS canary_arm "
        "LowCardinality(Nullable(String))"
    )
    conn.command(_spans_ddl(url, "spans"))
    conn.command(
        f"CREATE TABLE IF NOT EXISTS {db}.runs_by_time{on_cluster} (\n  {_cols(RUN_COLUMNS)},\n"
        "  ver UInt64,\n"
        "  tools Array(String),\n"
        "  deleted UInt8 DEFAULT 0,\n"
        "  INDEX ix_tools tools TYPE bloom_filter GRANULARITY 1,\n"
        "  INDEX ix_session session_id TYPE bloom_filter GRANULARITY 4,\n"
        "  INDEX ix_user user_id TYPE bloom_filter GRANULARITY 4\n"
        f") ENGINE = {replicated}ReplacingMergeTree(ver, deleted)\n"
        f"ORDER BY (start_ns, trace_id){ttl}\n"
        "SETTINGS index_granularity = 1024"
    )
    conn.command(
        f"CREATE TABLE IF NOT EXISTS {db}.run_versions{on_cluster} (\n"
        "  trace_id String,\n  ver UInt64,\n  start_ns Int64,\n  tools Array(String)\n"
        f") ENGINE = {replicated}ReplacingMergeTree(ver)\nORDER BY trace_id{ttl}\n"
        "SETTINGS index_granularity = 64"
    )
    for table, name, typ in ADDED_COLUMNS:  # a column of runs is a column of runs_by_time
        for t in ("runs", "runs_by_time") if table == "runs" else (table,):
            conn.command(f"ALTER TABLE {db}.{t}{on_cluster} ADD COLUMN IF NOT EXISTS {name} {typ}")
    regranulate(conn, url, "runs", _runs_ddl, [*(n for n, _ in RUN_COLUMNS), "ver"])
    regranulate(conn, url, "spans", _spans_ddl, [n for n, _ in SPAN_COLUMNS])
    backfill_index(conn, url)


def _clauses(url: TracesUrl) -> tuple[str, str, str]:
    """(`` ON CLUSTER c`` or "", ``Replicated`` or "", the TTL clause or "")."""
    on_cluster = f" ON CLUSTER {url.cluster}" if url.cluster else ""
    replicated = "Replicated" if url.cluster else ""
    ttl = (
        f"\nTTL toDateTime(intDiv(start_ns, 1000000000)) + INTERVAL {int(url.retention_days)} DAY"
        if url.retention_days
        else ""
    )
    return on_cluster, replicated, ttl


def _lookup_settings(table: str) -> str:
    """Small granules (:data:`GRANULARITY`) in small compressed blocks: a run read by id
    decompresses a block of each column of each part it reads, not ~1 MiB of it."""
    return (
        f"index_granularity = {GRANULARITY[table]},"
        " min_compress_block_size = 8192, max_compress_block_size = 65536"
    )


def _runs_ddl(url: TracesUrl, name: str) -> str:
    on_cluster, replicated, ttl = _clauses(url)
    return (
        f"CREATE TABLE IF NOT EXISTS {url.database}.{name}{on_cluster} (\n"
        f"  {_cols(RUN_COLUMNS)},\n"
        "  ver UInt64,\n"
        "  INDEX ix_start start_ns TYPE minmax GRANULARITY 1,\n"
        "  INDEX ix_agent agent_name TYPE set(1000) GRANULARITY 4,\n"
        "  INDEX ix_status status TYPE set(10) GRANULARITY 4,\n"
        "  INDEX ix_env env TYPE set(100) GRANULARITY 4,\n"
        "  INDEX ix_outcome outcome TYPE set(10) GRANULARITY 4\n"
        f") ENGINE = {replicated}ReplacingMergeTree(ver)\nORDER BY trace_id{ttl}\n"
        f"SETTINGS {_lookup_settings('runs')}"
    )


def _spans_ddl(url: TracesUrl, name: str) -> str:
    on_cluster, replicated, ttl = _clauses(url)
    return (
        f"CREATE TABLE IF NOT EXISTS {url.database}.{name}{on_cluster} (\n"
        f"  {_cols(SPAN_COLUMNS)},\n"
        "  INDEX ix_tool tool_name TYPE bloom_filter GRANULARITY 4\n"
        f") ENGINE = {replicated}ReplacingMergeTree\nORDER BY (trace_id, span_id){ttl}\n"
        f"SETTINGS {_lookup_settings('spans')}"
    )


def regranulate(
    conn: ChConnection,
    url: TracesUrl,
    table: str,
    ddl: Callable[[TracesUrl, str], str],
    columns: list[str],
) -> bool:
    """Rebuild ``table`` at its :data:`GRANULARITY` when it was made with another (a store
    made before the setting; ClickHouse cannot change it in place): a copy made beside it,
    filled with every row, swapped in (``EXCHANGE TABLES``), the old one dropped. A copy left
    by a rebuild cut short is dropped and made again. True when it rebuilt the table.

    Rows another process writes meanwhile are kept: after the swap, the rows of every part
    the first read did not see (written, or merged, since) are copied again from the old
    table into the rebuilt one, where the engine folds the duplicates (both tables are
    ``ReplacingMergeTree``). ``EXCHANGE TABLES`` needs an ``Atomic`` database (ClickHouse's
    default since 20.10)."""
    db = url.database
    on_cluster = _clauses(url)[0]
    copy = f"{table}_regranulate"
    got = conn.rows(
        "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {t:String}",
        {"db": db, "t": table},
    )
    if not got or f"index_granularity = {GRANULARITY[table]}" in got[0]["engine_full"]:
        if got:
            conn.command(f"DROP TABLE IF EXISTS {db}.{copy}{on_cluster}")
        return False
    names = ", ".join(columns)
    conn.command(f"DROP TABLE IF EXISTS {db}.{copy}{on_cluster}")
    conn.command(ddl(url, copy))
    seen = [r["name"] for r in conn.rows(_ACTIVE_PARTS, {"db": db, "t": table})]
    conn.command(
        f"INSERT INTO {db}.{copy} ({names}) SELECT {names} FROM {db}.{table}"
        " WHERE _part IN {seen:Array(String)}",
        {"seen": seen},
    )
    conn.command(f"EXCHANGE TABLES {db}.{table} AND {db}.{copy}{on_cluster}")
    # what was written (or merged) into the old table while the copy read it
    conn.command(
        f"INSERT INTO {db}.{table} ({names}) SELECT {names} FROM {db}.{copy}"
        " WHERE _part NOT IN {seen:Array(String)}",
        {"seen": seen},
    )
    conn.command(f"DROP TABLE {db}.{copy}{on_cluster}")
    return True


_ACTIVE_PARTS = (
    "SELECT name FROM system.parts WHERE database = {db:String} AND table = {t:String} AND active"
)


def backfill_index(conn: ChConnection, url: TracesUrl) -> bool:
    """Fill ``runs_by_time`` and ``run_versions`` from ``runs`` (the newest version of each
    run) and ``spans`` (its tool names) when ``run_versions`` is empty and ``runs`` is not: a
    store made before the index. Written last, ``run_versions`` empty means the index is not
    filled (a fill cut short starts again). True when it filled them."""
    db = url.database
    on_cluster = f" ON CLUSTER {url.cluster}" if url.cluster else ""
    if conn.rows(f"SELECT 1 AS x FROM {db}.run_versions LIMIT 1"):
        return False
    if not conn.rows(f"SELECT 1 AS x FROM {db}.runs LIMIT 1"):
        return False
    names = ", ".join(n for n, _ in RUN_COLUMNS)
    conn.command(f"TRUNCATE TABLE IF EXISTS {db}.runs_by_time{on_cluster}")
    conn.command(
        f"INSERT INTO {db}.runs_by_time ({names}, ver, tools)"
        f" SELECT {', '.join('r.' + n for n, _ in RUN_COLUMNS)}, r.ver, t.tools"
        f" FROM (SELECT * FROM {db}.runs FINAL) AS r LEFT JOIN"
        " (SELECT trace_id, arraySort(groupUniqArray(tool_name)) AS tools"
        f" FROM {db}.spans WHERE tool_name IS NOT NULL GROUP BY trace_id) AS t"
        " ON r.trace_id = t.trace_id SETTINGS join_use_nulls = 0"
    )
    conn.command(
        f"INSERT INTO {db}.run_versions (trace_id, ver, start_ns, tools)"
        f" SELECT trace_id, ver, start_ns, tools FROM {db}.runs_by_time"
    )
    return True
