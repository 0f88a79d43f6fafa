"""``agentdeck suite add-run`` then ``agentdeck eval``: a production run judged bad becomes a
case the agent fails until fixed; a good one a case it passes; from a suite file or a suite
stored in the database; one-line errors (exit 2) naming the option."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from conftest_helpers import EXAMPLE, register_example

from agentdeck.cli import common
from agentdeck.cli.main import main
from agentdeck.core.spec.agent import ResolvedAgent
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore, open_store
from agentdeck.tracing.replay.entrypoint import run_entrypoint
from agentdeck.tracing.sdk import api as sdk
from foundation import Result

Cli = Callable[..., Result]
REFUND = (
    "My mug from order ORD-1000 arrived broken, I'd like a refund of 40 EUR. "
    "My email is omar.kim@example.com"
)
STATUS = "Where is my order ORD-1001?"


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


def _production(db: SqlStore, tmp_path: Path, *texts: str) -> list[str]:
    reg = Registry(db)
    sdk.init(sink=db, resolver=CachingResolver(reg), spill_dir=tmp_path / "spill")
    try:
        v = reg.get("support-bot@1")
        agent = ResolvedAgent(v.name, v.version, v.digest, v.spec, env="production")
        ids = [run_entrypoint(agent, t, paths=[EXAMPLE]).trace_id for t in texts]
        assert sdk.flush(timeout=30)
    finally:
        sdk.shutdown()
    return ids


def test_a_bad_answer_becomes_a_stored_case_the_agent_fails(
    cli: Cli, db: SqlStore, tmp_path: Path
) -> None:
    (bad,) = _production(db, tmp_path, REFUND)
    assert cli("feedback", bad, "--label", "thumbs_down", "--comment", "no refund wanted").code == 0
    refused = cli("suite", "add-run", bad[:10], "--suite", "prod-regressions")
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1
    assert "--expect: run" in refused.err and "thumbs_down" in refused.err
    assert db.dataset_names() == []
    typo = cli("suite", "add-run", bad, "--suite", "prod-regressions", "--expect", "{max_step: 1}")
    assert typo.code == 2 and typo.err.startswith("error: --expect") and "max_step" in typo.err
    added = cli("suite", "add-run", bad, "--suite", "prod-regressions", "--json",
                "--expect", "{not_called: [issue_refund]}")  # fmt: skip
    assert added.code == 0, added.err
    body = json.loads(added.out)
    assert (body["suite"], body["where"], body["run_id"]) == ("prod-regressions", "stored", bad)
    assert body["case"]["expect"] == {"not_called": ["issue_refund"]}
    ran = cli("eval", "prod-regressions", "--agent", "support-bot@1", "--json")
    assert ran.code == 1, ran.err  # the stored case fails: v1 still refunds
    result = json.loads(ran.out)
    assert result["passed"] == 0 and "issue_refund must not be called" in str(result["cases"])
    listed = json.loads(cli("suite", "list", "--json").out)
    assert listed == [{"suite": "prod-regressions", "cases": 1}]
    exported = yaml.safe_load(cli("suite", "export", "prod-regressions").out)
    assert exported["cases"][0]["input"] == REFUND
    missing = cli("eval", "no-such-suite", "--agent", "support-bot@1")
    assert missing.code == 2 and "no stored suite of that name" in missing.err


def test_a_good_run_becomes_a_case_in_a_suite_file_that_passes(
    cli: Cli, db: SqlStore, tmp_path: Path
) -> None:
    (good,) = _production(db, tmp_path, STATUS)
    assert cli("feedback", good, "--label", "thumbs_up").code == 0
    path = tmp_path / "prod.yaml"
    where = json.dumps(str(EXAMPLE))
    path.write_text(
        f"# cases from production\nname: prod\npaths: [{where}]\ncases:\n"
        f"  - id: hand-written\n    input: {STATUS!r}\n    expect: {{calls: [lookup_order]}}\n"
    )
    added = cli("suite", "add-run", good, "--suite", str(path))
    assert added.code == 0, added.err
    assert "case run-" in added.out and "added to suite prod" in added.out
    text = path.read_text()
    assert text.startswith("# cases from production")  # the file's comments are kept
    assert [c["id"] for c in yaml.safe_load(text)["cases"]] == ["hand-written", f"run-{good[:12]}"]
    ran = cli("eval", str(path), "--agent", "support-bot@1", "--json")
    assert ran.code == 0, ran.out
    assert json.loads(ran.out)["passed"] == 2
