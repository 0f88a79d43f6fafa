"""The CLI's search and data lifecycle: ``runs -q`` (a malformed query exits 2 naming the
position), ``runs delete`` (dry run, --json, refuses without a selector), ``gc --dry-run
--json`` after ``env gates --set retention.days=...`` (``-1`` exits 2 naming the field), and
``export`` as JSONL and Parquet with the same query."""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow.parquet as pq

from agentdeck.store import SqlStore
from foundation import Cli
from store.test_search import A, B, C, D, S, _run


def _load(store: SqlStore) -> None:
    from store.test_search import _llm, _tool

    store.write_batch(
        [_run(A, 1 * S, input="parcel", user_id="alice", attributes={"tags": ["vip"]}),
         _run(B, 2 * S, input="refund please", user_id="bob", env="staging"),
         _run(C, 3 * S, input="cancel", user_id="alice"),
         _run(D, 4 * S, input="hello", agent_name="other-bot")],
        [_tool(B, "refund", {"order": "o-7"}, "accepted", 2 * S), _llm(A, "in Rotterdam", S)],
    )  # fmt: skip


def _ids(cli: Cli, *args: str) -> list[str]:
    result = cli("runs", "--json", *args)
    assert result.code == 0, result
    return [r["trace_id"] for r in orjson.loads(result.out)]


def test_runs_query(cli: Cli, store: SqlStore) -> None:
    _load(store)
    assert _ids(cli, "-q", "tag:vip OR refund") == [B, A]
    assert _ids(cli, "--query", "user:alice", "--agent", "support-bot") == [C, A]
    assert _ids(cli, "-q", "rotterdam") == [A]
    bad = cli("runs", "-q", "latency>")
    assert bad.code == 2
    assert bad.err.strip() == "error: --query: position 9: expected a value after 'latency>'"


def test_runs_delete(cli: Cli, store: SqlStore) -> None:
    _load(store)
    none = cli("runs", "delete", "--json")
    assert none.code == 2 and "nothing selected" in none.err
    dry = cli("runs", "delete", "--user", "alice", "--dry-run", "--json")
    assert dry.code == 0 and orjson.loads(dry.out)["runs"] == 2
    assert len(_ids(cli)) == 4
    done = cli("runs", "delete", "--user", "alice", "--yes")
    assert done.code == 0 and "deleted 2 runs" in done.out
    assert _ids(cli) == [D, B]
    by_q = cli("runs", "delete", "-q", "refund", "--yes", "--json")
    assert orjson.loads(by_q.out)["runs"] == 1
    by_id = cli("runs", "delete", "--run", D[:10], "--yes", "--json")
    assert orjson.loads(by_id.out)["runs"] == 1
    assert _ids(cli) == []
    log = orjson.loads(cli("audit", "log", "--json").out)
    assert [e["action"] for e in log if e["action"] == "runs.delete"] == ["runs.delete"] * 3
    assert "alice" not in orjson.dumps(log).decode()


def test_gc_with_retention(cli: Cli, store: SqlStore) -> None:
    _load(store)  # runs of 1970: older than any retention
    bad = cli("env", "gates", "production", "--set", "retention.days=-1")
    assert bad.code == 2
    assert "production: retention.days: expected a whole number of days" in bad.err
    assert cli("gc", "--json").out.strip() == "[]"
    assert cli("env", "gates", "production", "--set", "retention.days=30").code == 0
    dry = orjson.loads(cli("gc", "--dry-run", "--json").out)
    assert dry == [{"what": "env production", "runs": 3, "rows": {}, "dry_run": True}]
    assert len(_ids(cli)) == 4
    done = cli("gc")
    assert done.code == 0 and "env production: deleted 3 runs" in done.out
    assert _ids(cli) == [B]  # staging has no retention


def test_export_jsonl_and_parquet(cli: Cli, store: SqlStore, tmp_path: Path) -> None:
    _load(store)
    out = tmp_path / "runs.jsonl"
    res = cli("export", "-q", "tag:vip OR refund", "-o", str(out), "--json")
    assert res.code == 0 and orjson.loads(res.out) == {"runs": 2, "spans": 2, "path": str(out)}
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert [(x["record"], x["trace_id"]) for x in lines] == [
        ("run", B), ("span", B), ("run", A), ("span", A)]  # fmt: skip
    folder = tmp_path / "pq"
    res = cli("export", "--format", "parquet", "-q", "user:alice", "-o", str(folder))
    assert res.code == 0, res
    runs = pq.read_table(folder / "runs.parquet").to_pylist()
    assert [r["trace_id"] for r in runs] == [C, A]
    assert orjson.loads(runs[1]["attributes"]) == {"tags": ["vip"]}
    assert orjson.loads(runs[1]["input"]) == "parcel"
    spans = pq.read_table(folder / "spans.parquet").to_pylist()
    assert [s["trace_id"] for s in spans] == [A] and spans[0]["kind"] == "llm"
    bad = cli("export", "--format", "csv", "-o", str(tmp_path / "x"))
    assert bad.code == 2 and "--format: expected jsonl or parquet" in bad.err
