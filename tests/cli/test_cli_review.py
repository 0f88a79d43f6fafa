"""``agentdeck queue create|list|next|label|skip``: a queue from a runs filter, walked and
labelled from the CLI with --json in the API's shape; one-line errors (exit 2) naming the file,
field or option, with the nearest spelling; nothing stored by a refused command."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from agentdeck.store import SqlStore
from foundation import Cli
from run_summary_data import record_runs

SCHEMA = """\
labels:
  - {name: correct, pass: true}
  - {name: wrong, pass: false}
scores:
  - {name: helpfulness, min: 1, max: 5}
"""


@pytest.fixture
def ids(store: SqlStore, tmp_path: Path) -> dict[str, str]:
    return record_runs(store, tmp_path)


def test_a_queue_is_created_walked_and_labelled(
    cli: Cli, ids: dict[str, str], store: SqlStore, tmp_path: Path
) -> None:
    schema = tmp_path / "labels.yaml"
    schema.write_text(SCHEMA)
    made = cli("queue", "create", "errors", "--schema", schema, "--status", "error", "--json")
    assert made.code == 0, made.err
    q = orjson.loads(made.out)
    assert (q["name"], q["total"], q["filter"]) == ("errors", 1, {"status": "error"})
    nxt = orjson.loads(cli("queue", "next", "errors", "--json").out)
    assert nxt["item"]["run_id"] == ids["raised"] and nxt["labels"][1] == {
        "key": 2, "name": "wrong", "pass": False
    }  # fmt: skip
    text = cli("queue", "next", "errors")
    assert "[1] correct" in text.out and f"run {ids['raised']}" in text.out
    labelled = cli("queue", "label", "errors", ids["raised"][:8], "wrong",
                   "--score", "helpfulness=2", "--comment", "crashed", "--json")  # fmt: skip
    assert labelled.code == 0, labelled.err
    body = orjson.loads(labelled.out)
    assert (body["label"], body["pass"], body["scores"], body["outcome_set"]) == (
        "wrong", False, {"helpfulness": 2.0}, True
    )  # fmt: skip
    run = store.get_run(ids["raised"])
    assert run is not None and str(run.outcome) == "failure"
    assert "nothing left to review" in cli("queue", "next", "errors").out
    listed = orjson.loads(cli("queue", "list", "--json").out)
    assert [(x["name"], x["labelled"], x["pending"]) for x in listed] == [("errors", 1, 0)]
    every = cli("queue", "create", "all", "--schema", schema, "--sample", "1", "--json")
    assert orjson.loads(every.out)["total"] == 4
    skipped = cli("queue", "skip", "all", ids["clean"], "--json")
    assert orjson.loads(skipped.out)["status"] == "skipped"


def test_review_errors_are_one_line_naming_the_part(
    cli: Cli, ids: dict[str, str], store: SqlStore, tmp_path: Path
) -> None:
    bad = tmp_path / "labels.yaml"
    bad.write_text("labels:\n  - {name: ok, pas: true}\n")
    r = cli("queue", "create", "q", "--schema", bad)
    assert r.code == 2
    assert r.err.strip() == f"error: {bad}: labels[0].pas: unknown key; did you mean 'pass'?"
    good = tmp_path / "good.yaml"
    good.write_text(SCHEMA)
    r = cli("queue", "create", "q", "--schema", good, "--outcome", "fine")
    assert r.code == 2 and "--outcome: expected success or failure" in r.err
    r = cli("queue", "create", "q", "--schema", good, "--sample", "0")
    assert r.code == 2 and "--sample: expected a fraction" in r.err
    assert store.list_queues() == []
    assert cli("queue", "create", "q", "--schema", good).code == 0
    r = cli("queue", "label", "q", ids["clean"], "corect")
    assert r.code == 2 and "--label: unknown label 'corect'; did you mean 'correct'?" in r.err
    r = cli("queue", "label", "q", ids["clean"], "correct", "--score", "helpfulness=9")
    assert r.code == 2 and "--score helpfulness: expected 1..5, got 9" in r.err
    r = cli("queue", "next", "qq")
    assert r.code == 2 and "no such queue; did you mean 'q'?" in r.err
    assert store.list_annotations() == []
    for line in (r.err,):
        assert "Traceback" not in line and len(line.strip().splitlines()) == 1


def test_the_cli_json_is_the_api_json(
    cli: Cli, ids: dict[str, str], store: SqlStore, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from agentdeck.registry.keys import create_key
    from agentdeck.server.app import create_app

    schema = tmp_path / "labels.yaml"
    schema.write_text(SCHEMA)
    assert cli("queue", "create", "triage", "--schema", schema, "--sample", "0.5").code == 0
    assert cli("suite", "add-run", ids["clean"], "--suite", "prod").code == 0
    token = create_key(store, "reader", ["read"], "test").token
    with TestClient(create_app(store)) as client:
        h = {"Authorization": f"Bearer {token}"}
        for args, path in (
            (("queue", "list"), "/api/v1/queues"),
            (("suite", "list"), "/api/v1/suites"),
            (("suite", "export", "prod"), "/api/v1/suites/prod"),
        ):
            api = client.get(path, headers=h)
            assert api.status_code == 200
            assert orjson.loads(cli(*args, "--json").out) == api.json(), args


def test_suite_export_writes_into_a_new_folder_and_names_out_when_it_cannot(
    cli: Cli, ids: dict[str, str], tmp_path: Path
) -> None:
    assert cli("suite", "add-run", ids["clean"], "--suite", "prod").code == 0
    out = tmp_path / "evals" / "prod.yaml"
    r = cli("suite", "export", "prod", "--out", out)
    assert r.code == 0, r.err
    assert "cases:" in out.read_text() and f"wrote {out} (1 cases)" in r.out
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    r = cli("suite", "export", "prod", "--out", blocked / "prod.yaml")
    assert r.code == 2 and r.err.strip().startswith(f"error: --out: {blocked / 'prod.yaml'}: ")
    assert len(r.err.strip().splitlines()) == 1
