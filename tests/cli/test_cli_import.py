"""``agentdeck import FILE --agent REF``: the report (text and ``--json``), OTLP detection, and
bad input as one line with exit 2 and nothing stored."""

from __future__ import annotations

from pathlib import Path

import orjson

from agentdeck.core.trace.query import RunQuery
from agentdeck.store import SqlStore
from conversation_support import (
    refund_conversation,
    refund_trace_lines,
    register_example,
    write_jsonl,
)
from foundation import Cli, assert_user_error


def test_import_reports_runs_spans_invalid_calls_and_policy_hits(
    cli: Cli, store: SqlStore, tmp_path: Path
) -> None:
    register_example(store)
    docs = [refund_conversation() for _ in range(4)] + [refund_conversation(verify=False)]
    path = write_jsonl(tmp_path / "convs.jsonl", docs)
    result = cli("import", path, "--agent", "support-bot@1", "--env", "production", "--json")
    assert result.code == 0, result
    report = orjson.loads(result.out)
    assert {k: report[k] for k in ("format", "runs", "tool_calls", "invalid_calls", "policy_hits",
                                   "failed", "delivered")} == {
        "format": "openai", "runs": 5, "tool_calls": 14, "invalid_calls": 0, "policy_hits": 1,
        "failed": 0, "delivered": True}  # fmt: skip
    assert report["spans"] == 4 * 8 + 6
    runs = store.find_runs(RunQuery(env="production"))
    assert len(runs) == 5
    text = cli("import", path, "--agent", "support-bot@1")
    assert text.code == 0, text
    assert "imported 5 runs" in text.out and "1 policy hits" in text.out


def test_otlp_files_are_detected(cli: Cli, store: SqlStore, tmp_path: Path) -> None:
    register_example(store)
    path = write_jsonl(tmp_path / "traces.json", refund_trace_lines())
    result = cli("import", path, "--agent", "support-bot@1", "--json")
    assert result.code == 0, result
    report = orjson.loads(result.out)
    assert (report["format"], report["runs"], report["invalid_calls"]) == ("otlp", 1, 1)


def test_bad_input_is_one_line_exit_2_and_stores_nothing(
    cli: Cli, store: SqlStore, tmp_path: Path
) -> None:
    register_example(store)
    path = write_jsonl(tmp_path / "convs.jsonl", [refund_conversation(), {"messages": "x"}])
    assert_user_error(cli("import", path, "--agent", "support-bot@1"), "convs.jsonl:2:", "messages")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"messages": [\n')
    assert_user_error(cli("import", broken, "--agent", "support-bot@1"), "broken.jsonl:1:", "JSON")
    assert_user_error(
        cli("import", tmp_path / "none.jsonl", "--agent", "support-bot@1"), "none.jsonl"
    )
    good = write_jsonl(tmp_path / "good.jsonl", [refund_conversation()])
    assert_user_error(cli("import", good, "--agent", "nobody@1"), "nobody@1")
    assert_user_error(
        cli("import", good, "--agent", "support-bot@1", "--format", "csv"), "--format"
    )
    assert store.find_runs(RunQuery()) == []
