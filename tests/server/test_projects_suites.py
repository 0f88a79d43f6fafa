"""Stored suites on a server of two projects (SQLite and PostgreSQL): a suite belongs to the
project of its runs, a name is owned by the project that added its first case, another
project's suite answers as a missing one, and a run added must be of the request's project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import test_projects
from fastapi.testclient import TestClient
from test_projects import StoreCli, Two

from agentdeck.store import SqlStore

two = test_projects.two  # the fixture: projects default (A) and team-b (B)
store_cli = test_projects.store_cli
HX = {"HX-Request": "true"}
EXPECT = {"not_called": ["issue_refund"]}
FORM_EXPECT = "{not_called: [issue_refund]}"


def test_suites_are_the_projects_own(client: TestClient, two: Two) -> None:
    a, b = two.a.header("read"), two.b["read"]
    added = client.post(
        "/api/v1/suites/prod/cases", json={"run_id": two.a_run, "expect": EXPECT}, headers=a
    )
    assert added.status_code == 201, added.text
    # another project's run is not found, by id and by prefix
    for run_id in (two.a_run, two.a_run[:8]):
        r = client.post(
            "/api/v1/suites/b-prod/cases", json={"run_id": run_id, "expect": EXPECT}, headers=b
        )
        assert r.status_code in (400, 404) and "no run with that id" in r.json()["error"], r.text
    # the name is A's: B's run cannot join it
    taken = client.post(
        "/api/v1/suites/prod/cases", json={"run_id": two.b_run, "expect": EXPECT}, headers=b
    )
    assert taken.status_code == 409
    assert taken.json()["error"] == "body.suite: suite 'prod' belongs to another project"
    mine = client.post(
        "/api/v1/suites/b-prod/cases", json={"run_id": two.b_run[:8], "expect": EXPECT}, headers=b
    )
    assert mine.status_code == 201, mine.text
    assert client.get("/api/v1/suites", headers=a).json() == [{"suite": "prod", "cases": 1}]
    assert client.get("/api/v1/suites", headers=b).json() == [{"suite": "b-prod", "cases": 1}]
    in_b = {**two.root, "X-Agentdeck-Project": "team-b"}
    assert [s["suite"] for s in client.get("/api/v1/suites", headers=in_b).json()] == ["b-prod"]
    # another project's suite answers exactly as a missing one
    theirs, missing = (client.get(f"/api/v1/suites/{n}", headers=b) for n in ("prod", "nope"))
    assert theirs.status_code == missing.status_code == 400
    assert theirs.json()["error"] == missing.json()["error"].replace("nope", "prod")
    assert (
        client.get("/api/v1/suites/b-prod", headers=b).json()["cases"][0]["id"].startswith("run-")
    )
    assert client.get("/api/v1/suites/prod", headers=a).status_code == 200
    assert client.get("/api/v1/suites/b-prod", headers=a).status_code == 400


def test_the_add_to_suite_form_is_the_projects_own(client: TestClient, two: Two) -> None:
    a, b = two.a.header("read"), two.b["read"]
    assert client.post("/api/v1/suites/prod/cases", json={"run_id": two.a_run, "expect": EXPECT},
                       headers=a).status_code == 201  # fmt: skip
    assert client.get(f"/ui/runs/{two.a_run}/suite", headers=b).status_code == 404
    form = client.get(f"/ui/runs/{two.b_run}/suite", headers=b)
    assert form.status_code == 200 and 'value="prod"' not in form.text
    refused = client.post(f"/ui/runs/{two.a_run[:8]}/suite", data={"suite": "x", "expect": FORM_EXPECT},
                          headers={**b, **HX})  # fmt: skip
    assert refused.status_code == 404
    taken = client.post(f"/ui/runs/{two.b_run}/suite", data={"suite": "prod", "expect": FORM_EXPECT},
                        headers={**b, **HX})  # fmt: skip
    assert "suite &#39;prod&#39; belongs to another project" in taken.text
    ok = client.post(f"/ui/runs/{two.b_run}/suite", data={"suite": "b-prod", "expect": FORM_EXPECT},
                     headers={**b, **HX})  # fmt: skip
    assert "of suite b-prod" in ok.text
    assert client.get("/api/v1/suites", headers=b).json() == [{"suite": "b-prod", "cases": 1}]
    form = client.get(f"/ui/runs/{two.a_run}/suite", headers=a)
    assert 'value="prod"' in form.text and "b-prod" not in form.text


def test_the_suite_commands_take_a_project(
    client: TestClient,
    two: Two,
    store: SqlStore,
    store_cli: StoreCli,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    cli = store_cli
    expect = ("--expect", FORM_EXPECT)
    code, _, err = cli("suite", "add-run", two.b_run, "--suite", "b-prod", *expect)
    assert code != 0 and "no run with that id" in err  # B's run, outside default
    added = cli("suite", "add-run", two.a_run[:8], "--suite", "prod", *expect)
    assert added[0] == 0, added
    code, _, err = cli("suite", "add-run", two.b_run, "--suite", "prod", "--project", "team-b",
                       *expect)  # fmt: skip
    assert code == 1 and "suite 'prod' belongs to another project" in err, err
    assert cli("suite", "add-run", two.b_run, "--suite", "b-prod", "--project", "team-b",
               *expect)[0] == 0  # fmt: skip
    code, _, err = cli("suite", "add-run", two.a_run, "--suite", str(tmp_path / "x.yaml"),
                       "--project", "team-b", *expect)  # fmt: skip
    assert code != 0 and "no run with that id" in err
    listed = json.loads(cli("suite", "list", "--json")[1])
    assert listed == [{"suite": "prod", "cases": 1}]
    monkeypatch.setenv("AGENTDECK_PROJECT", "team-b")
    assert json.loads(cli("suite", "list", "--json")[1]) == [{"suite": "b-prod", "cases": 1}]
    assert json.loads(cli("suite", "export", "b-prod", "--json")[1])["name"] == "b-prod"
    code, _, err = cli("suite", "export", "prod")
    assert code != 0 and "no stored suite of that name" in err
    code, _, err = cli("eval", "prod", "--agent", "beta@1")
    assert code != 0 and "no stored suite of that name" in err
    code, _, err = cli("suite", "list", "--project", "nope")
    assert code == 2 and "--project" in err
