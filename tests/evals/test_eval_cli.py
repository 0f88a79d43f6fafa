"""``agentdeck eval`` and ``agentdeck scores``: table, JSON, exit 1 below the thresholds,
``--compare`` case by case, exit 2 naming file and field for a bad suite; docs sections exist."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest_helpers import EXAMPLE, SUITE, register_example

from agentdeck.cli import common
from agentdeck.cli.main import main
from agentdeck.store import SqlStore, open_store
from foundation import REPO, Result

Cli = Callable[..., Result]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqlStore]:
    s = open_store(f"sqlite:///{tmp_path / 'cli.db'}")
    register_example(s)
    yield s
    s.close()


@pytest.fixture
def cli(db: SqlStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", db.url)
    monkeypatch.setenv("AGENTDECK_ACTOR", "tester")
    monkeypatch.chdir(EXAMPLE)
    monkeypatch.setattr(common.console, "width", 200)
    monkeypatch.setattr(common.err_console, "width", 200)

    def run(*args: str) -> Result:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main([str(a) for a in args])
        out = capsys.readouterr()
        code = info.value.code
        return Result(
            code if isinstance(code, int) else (0 if code is None else 1), out.out, out.err
        )

    return run


def test_eval_prints_a_table_and_stores_the_result(cli: Cli, db: SqlStore) -> None:
    r = cli("eval", str(SUITE), "--agent", "support-bot@1")
    assert r.code == 0, r.err
    assert "refund-small-damaged" in r.out and "10/10 passed (100%)" in r.out
    assert "thresholds met" in r.out
    assert len(db.eval_results(agent_name="support-bot")) == 1


def test_eval_exits_1_below_the_thresholds(cli: Cli) -> None:
    r = cli("eval", str(SUITE), "--agent", "support-bot@2", "--min-pass-rate", "1.0", "--json")
    assert r.code == 1
    data = json.loads(r.out)
    assert data["thresholds_met"] is False and data["passed"] == 9
    assert data["threshold_misses"] == ["pass rate 90% is below 100%"]
    ok = cli("eval", str(SUITE), "--agent", "support-bot@2")  # the suite's own 85% is met
    assert ok.code == 0


def test_compare_shows_changes_case_by_case(cli: Cli, db: SqlStore) -> None:
    assert cli("eval", str(SUITE), "--agent", "support-bot@1").code == 0
    r = cli("eval", str(SUITE), "--agent", "support-bot@2", "--compare", "support-bot@1", "--json")
    assert r.code == 0
    cmp = json.loads(r.out)["compare"]
    changes = {c["case"]: c["change"] for c in cmp["changes"]}
    assert changes["refund-small-damaged"] == "broken"
    assert changes["kb-return-policy"] == "still passing"
    assert cmp["summary"] == {"broken": 1, "still passing": 9}
    # v1's stored result was reused, not re-run: two results in all.
    assert len(db.eval_results(agent_name="support-bot")) == 2
    table = cli("eval", str(SUITE), "--agent", "support-bot@2", "--compare", "support-bot@1")
    assert "support-bot@1 -> support-bot@2" in table.out and "broken" in table.out


def test_a_bad_suite_is_exit_2_naming_file_and_field(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: s\ncases:\n  - id: a\n    input: hi\n    expect: {max_steps: many}\n")
    r = cli("eval", str(bad), "--agent", "support-bot@1")
    assert r.code == 2
    assert f"{bad}: cases[0].expect.max_steps:" in r.err and "Traceback" not in r.err
    missing = cli("eval", str(tmp_path / "nope.yaml"), "--agent", "support-bot@1")
    assert missing.code == 2 and "no such file" in missing.err
    unknown = cli("eval", str(SUITE), "--agent", "support-bot@9")
    assert unknown.code == 2


def test_scores_command_reads_online_eval_spans(cli: Cli) -> None:
    r = cli("scores", "support-bot", "--json")
    assert r.code == 0 and json.loads(r.out) == []
    assert "no online scores" in cli("scores", "support-bot").out


def test_docs_have_a_section_per_eval_command() -> None:
    text = (REPO / "docs" / "cli.md").read_text("utf-8")
    for name in ("eval", "scores"):
        assert f"\n## agentdeck {name}\n" in text
