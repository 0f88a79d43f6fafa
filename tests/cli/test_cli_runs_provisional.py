"""``agentdeck runs`` and ``agentdeck trace`` mark a provisional run (derived from child spans,
its root not arrived) and only it: in the table, in ``--json`` and in the trace's header."""

from __future__ import annotations

import orjson

from agentdeck.store import SqlStore
from foundation import Cli
from provisional_data import write_both

NOTE = "derived from child spans; the root span has not arrived"


def _row(table: str, trace_id: str) -> str:
    (line,) = [ln for ln in table.splitlines() if trace_id[:12] in ln]
    return line


def test_runs_table_marks_the_provisional_run_only(cli: Cli, store: SqlStore) -> None:
    prov, real = write_both(store)
    result = cli("runs")
    assert result.code == 0, result
    assert "provisional" in _row(result.out, prov.trace_id)
    assert "error" in _row(result.out, prov.trace_id)
    assert "provisional" not in _row(result.out, real.trace_id)
    assert f"provisional: {NOTE}" in result.out  # the caption explains the marker
    only_real = cli("runs", "--status", "ok")
    assert real.trace_id[:12] in only_real.out and "provisional" not in only_real.out


def test_runs_json_says_provisional_true_or_false(cli: Cli, store: SqlStore) -> None:
    prov, real = write_both(store)
    result = cli("runs", "--json")
    assert result.code == 0, result
    listed = {r["trace_id"]: r for r in orjson.loads(result.out)}
    assert listed[prov.trace_id]["provisional"] is True
    assert listed[real.trace_id]["provisional"] is False


def test_trace_header_says_provisional_and_why(cli: Cli, store: SqlStore) -> None:
    prov, real = write_both(store)
    head = cli("trace", prov.trace_id[:10]).out.splitlines()[0]
    assert head.startswith(f"run {prov.trace_id}") and "support-bot@? in production" in head
    assert f"provisional ({NOTE})" in head
    tree = cli("trace", prov.trace_id).out
    assert "chat gpt-4o" in tree and "lookup_order" in tree  # the orphans shown as roots
    real_head = cli("trace", real.trace_id).out.splitlines()[0]
    assert "support-bot@2 in production" in real_head and "provisional" not in real_head
    as_json = orjson.loads(cli("trace", prov.trace_id, "--json").out)
    assert as_json["run"]["provisional"] is True and len(as_json["spans"]) == 2
    assert orjson.loads(cli("trace", real.trace_id, "--json").out)["run"]["provisional"] is False
