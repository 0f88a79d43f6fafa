"""``agentdeck runs`` filters on what happened (status, tool errors, denials, outcome) and shows
it; ``--json`` is the API's run shape; ``agentdeck trace`` shows a failed eval as failed."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agentdeck.store import SqlStore
from foundation import Cli
from run_summary_data import record_runs


@pytest.fixture
def ids(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    return record_runs(store, tmp_path)


def _listed(cli: Cli, *args: str) -> set[str]:
    result = cli("runs", "--json", *args)
    assert result.code == 0, result
    return {r["trace_id"] for r in orjson.loads(result.out)}


def test_runs_filter_on_status_errors_denials_and_outcome(cli: Cli, ids: dict[str, str]) -> None:
    assert _listed(cli, "--status", "error") == {ids["raised"]}
    assert _listed(cli, "--status", "ok") == {ids["clean"], ids["tool_err"], ids["denied"]}
    assert _listed(cli, "--has-errors") == {ids["tool_err"], ids["denied"]}  # denied: failed too
    assert _listed(cli, "--denied") == {ids["denied"]}
    assert _listed(cli, "--outcome", "success") == {ids["clean"]}
    assert _listed(cli, "--outcome", "failure") == {ids["tool_err"]}
    assert _listed(cli, "--has-errors", "--outcome", "success") == set()
    assert _listed(cli, "--has-errors", "--denied") == {ids["denied"]}


def test_runs_json_is_the_api_shape_with_the_summary(cli: Cli, ids: dict[str, str]) -> None:
    rows = {r["trace_id"]: r for r in orjson.loads(cli("runs", "--json").out)}
    tool_err, clean = rows[ids["tool_err"]], rows[ids["clean"]]
    assert (tool_err["status"], tool_err["tool_errors"], tool_err["denied_calls"]) == ("ok", 1, 0)
    assert tool_err["outcome"] == "failure"
    assert tool_err["outcome_reason"] == "confirmation e-mail not sent"
    assert (clean["outcome"], clean["outcome_score"]) == ("success", 0.9)
    assert rows[ids["denied"]]["denied_calls"] == 1 and rows[ids["denied"]]["tool_errors"] == 1
    raised = rows[ids["raised"]]
    assert raised["status"] == "error" and "model returned garbage" in raised["error"]
    assert list(tool_err) == list(_api_keys())


def _api_keys() -> list[str]:
    from agentdeck.core.trace.model import Run
    from agentdeck.server.serialize import run_json

    return list(run_json(Run("0" * 31 + "1", None, None, None, None, None, 0)))


def test_runs_table_shows_errors_denials_and_outcome(cli: Cli, ids: dict[str, str]) -> None:
    out = cli("runs").out
    head = next(ln for ln in out.splitlines() if "status" in ln and " err " in ln)
    assert " deny " in head and "outcome" in head
    row = {n: next(ln for ln in out.splitlines() if ids[n][:12] in ln) for n in ids}
    assert "failure" in row["tool_err"] and "success 0.9" in row["clean"]
    assert "error" in row["raised"]


def test_bad_filter_values_are_one_line_errors(cli: Cli, ids: dict[str, str]) -> None:
    bad = cli("runs", "--outcome", "great")
    assert bad.code == 2 and "--outcome" in bad.err and "Traceback" not in bad.err
    assert len(bad.err.strip().splitlines()) == 1


def test_trace_shows_a_failed_eval_as_failed(cli: Cli, ids: dict[str, str]) -> None:
    tree = cli("trace", ids["tool_err"]).out
    failed = next(ln for ln in tree.splitlines() if "eval email-sent" in ln)
    passed = next(ln for ln in tree.splitlines() if "eval tone" in ln)
    assert "✗ failed" in failed and "✓" not in failed
    assert "✓" in passed and "✗" not in passed
    head = tree.splitlines()[0]
    assert "tool errors: 1" in head and "denied: 0" in head and "outcome: failure" in head
    denied = cli("trace", ids["denied"]).out
    assert "✗ denied" in next(ln for ln in denied.splitlines() if "issue_refund" in ln)
