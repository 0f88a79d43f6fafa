"""``agentdeck feedback``: stored with who and when, sets an unknown outcome, one-line errors."""

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


def test_feedback_sets_unknown_outcome_and_failed_runs_filter_on_it(
    cli: Cli, ids: dict[str, str], store: SqlStore
) -> None:
    denied = ids["denied"]
    result = cli("feedback", denied[:10], "--label", "thumbs_down", "--score", "0",
                 "--comment", "refund never made", "--by", "ada", "--json")  # fmt: skip
    assert result.code == 0, result
    body = orjson.loads(result.out)
    assert (body["trace_id"], body["by"], body["source"], body["label"]) == (
        denied,
        "ada",
        "human",
        "thumbs_down",
    )
    assert body["outcome_set"] is True
    failed = {
        r["trace_id"] for r in orjson.loads(cli("runs", "--json", "--outcome", "failure").out)
    }
    assert denied in failed
    # the agent's own outcome stands
    clean = cli("feedback", ids["clean"], "--label", "thumbs_down", "--by", "bob", "--program")
    assert clean.code == 0 and "outcome" not in clean.out
    stored = store.list_feedback(ids["clean"])
    assert [(f.by, str(f.source)) for f in stored] == [("bob", "program")]
    run = store.get_run(ids["clean"])
    assert run is not None and str(run.outcome) == "success"


def test_feedback_errors_are_one_line_naming_the_option(cli: Cli, ids: dict[str, str]) -> None:
    empty = cli("feedback", ids["clean"])
    assert empty.code == 2 and "--score: give a score or a label" in empty.err
    assert "Traceback" not in empty.err and len(empty.err.strip().splitlines()) == 1
    missing = cli("feedback", "ffff" * 8, "--score", "1")
    assert missing.code == 2 and "no run with that id" in missing.err
