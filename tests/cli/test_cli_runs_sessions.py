"""``agentdeck runs --session/--user`` filter runs by session and user; ``--json`` shows both,
and so does ``agentdeck trace``'s head line."""

from __future__ import annotations

from pathlib import Path

import orjson

from agentdeck.store import SqlStore
from foundation import Cli
from session_data import record_session_runs


def _listed(cli: Cli, *args: str) -> set[str]:
    result = cli("runs", "--json", *args)
    assert result.code == 0, result
    return {r["trace_id"] for r in orjson.loads(result.out)}


def test_runs_filter_on_session_and_user(cli: Cli, store: SqlStore, tmp_path: Path) -> None:
    ids = record_session_runs(store, tmp_path)
    assert _listed(cli, "--session", "conv-a") == {ids["a1"], ids["a2"]}
    assert _listed(cli, "--user", "bob") == {ids["b1"]}
    assert _listed(cli, "--session", "conv-a", "--user", "bob") == set()
    assert _listed(cli, "--session", "unknown") == set()
    rows = {r["trace_id"]: r for r in orjson.loads(cli("runs", "--json").out)}
    assert (rows[ids["b1"]]["session_id"], rows[ids["b1"]]["user_id"]) == ("conv-b", "bob")
    assert (rows[ids["none"]]["session_id"], rows[ids["none"]]["user_id"]) == (None, None)


def test_trace_shows_session_and_user(cli: Cli, store: SqlStore, tmp_path: Path) -> None:
    ids = record_session_runs(store, tmp_path)
    out = cli("trace", ids["b1"]).out
    head = next(ln for ln in out.splitlines() if ids["b1"] in ln)
    assert "session: conv-b" in head and "user: bob" in head
