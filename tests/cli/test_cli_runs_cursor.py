"""``agentdeck runs --limit N`` prints the cursor of the next page and ``--cursor`` goes on
from it: every run once; a bad cursor or limit is a one-line error naming the option."""

from __future__ import annotations

import re

import orjson

from agentdeck.core.trace.model import Run, SpanStatus, new_trace_id
from agentdeck.store import SqlStore
from foundation import Cli, assert_user_error


def test_runs_pages_by_cursor(cli: Cli, store: SqlStore) -> None:
    made = [
        Run(new_trace_id(), "bot", 1, None, None, None, 1_000 + i // 2, None, SpanStatus.OK)
        for i in range(11)
    ]
    store.write_batch(made, [])
    seen: list[str] = []
    args: list[str] = []
    for _ in range(10):
        result = cli("runs", "--json", "--limit", "4", *args)
        assert result.code == 0, result
        seen.extend(r["trace_id"] for r in orjson.loads(result.out))
        m = re.search(r"next page: --cursor (\S+)", result.err)
        if m is None:
            break
        args = ["--cursor", m.group(1)]
    assert sorted(seen) == sorted(r.trace_id for r in made) and len(seen) == 11
    table = cli("runs", "--limit", "4")
    assert table.code == 0 and re.search(r"next page: --cursor \S+", table.out)
    assert "next page" not in cli("runs", "--limit", "20").out


def test_bad_cursor_and_limit_are_one_line_errors(cli: Cli, store: SqlStore) -> None:
    assert_user_error(cli("runs", "--cursor", "zz!"), "--cursor")
    assert_user_error(cli("runs", "--limit", "0"), "--limit")
