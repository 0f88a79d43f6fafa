"""``agentdeck replay``: exit codes, Rich report, --json, --with/--live-tools, --path, and
``agentdeck trace`` on a replay run; plus its section in docs/cli.md."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from replay_agents import agent_v1, shop
from replay_support import HERE, record, register_both, start_recording

from agentdeck.cli import common
from agentdeck.cli.main import main
from agentdeck.store import SqlStore, open_store
from agentdeck.tracing.sdk import api as sdk

Cli = Callable[..., tuple[int, str, str]]
DOCS = HERE.parents[1] / "docs" / "cli.md"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, SqlStore, str, str]]:
    """A SQLite file with both versions registered and two runs of v1 recorded (SDK shut down
    again, as when a user later runs the CLI): (url, store, refund run, status run)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    v1, _ = register_both(store)
    start_recording(store, tmp_path)
    try:
        refund = record(v1, "refund ORD-1 20")
        status = record(v1, "status ORD-2")
    finally:
        sdk.shutdown(10)
    yield url, store, refund, status
    store.close()


@pytest.fixture
def cli(
    db: tuple[str, SqlStore, str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Cli:
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", db[0])
    monkeypatch.setattr(common.console, "width", 200)
    monkeypatch.setattr(common.err_console, "width", 200)

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out = capsys.readouterr()
        code = info.value.code
        return (code if isinstance(code, int) else 0), out.out, out.err

    return run


def test_reproduced_run_exits_zero(cli: Cli, db: tuple[str, SqlStore, str, str]) -> None:
    code, out, _ = cli("replay", db[2][:10], "--path", str(HERE))
    assert code == 0, out
    assert "reproduced" in out and "5 of 5 steps" in out


def test_diverged_run_exits_one_with_expected_and_actual(
    cli: Cli, db: tuple[str, SqlStore, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_v1, "LOWERCASE_IDS", True)
    code, out, _ = cli("replay", db[2], "--path", str(HERE))
    assert code == 1
    assert "diverged at step 2" in out
    assert 'expected: lookup_order({"order_id":"ORD-1"})' in out
    assert 'actual:   lookup_order({"order_id":"ord-1"})' in out
    assert "at args.order_id" in out


def test_json_report(
    cli: Cli, db: tuple[str, SqlStore, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = cli("replay", db[3], "--path", str(HERE), "--json")
    body = json.loads(out)
    assert code == 0 and body["reproduced"] is True and body["divergence"] is None
    assert body["source_trace_id"] == db[3] and body["steps"] == 3
    assert db[1].get_replay_report(body["report_id"]) is not None
    monkeypatch.setattr(agent_v1, "EXTRA_SYSTEM", " Be brief.")
    code, out, _ = cli("replay", db[3], "--path", str(HERE), "--json")
    body = json.loads(out)
    assert code == 1 and body["divergence"]["kind"] == "messages"
    assert body["divergence"]["path"] == "messages[0].content"


def test_with_shows_both_sequences_side_by_side_and_exits_zero(
    cli: Cli, db: tuple[str, SqlStore, str, str]
) -> None:
    shop.LIVE_CALLS.clear()
    code, out, _ = cli("replay", db[2], "--with", "shop-bot@2", "--path", str(HERE))
    assert code == 0, out
    assert "recorded shop-bot@1" in out and "candidate shop-bot@2" in out
    assert "(miss)" in out and "notify(" in out
    assert "similarity 0.67" in out and "misses 1" in out
    assert shop.LIVE_CALLS == []


def test_with_live_tools_json(cli: Cli, db: tuple[str, SqlStore, str, str]) -> None:
    shop.LIVE_CALLS.clear()
    code, out, _ = cli(
        "replay", db[2], "--with", "shop-bot@2", "--live-tools", "--path", str(HERE), "--json"
    )
    body = json.loads(out)
    assert code == 0
    assert (body["agreed"], body["misses"], body["live"], body["served"]) == (False, 0, 1, 2)
    assert [r["status"] for r in body["rows"]] == ["match", "match", "candidate_only"]
    assert [name for name, _ in shop.LIVE_CALLS] == ["notify"]


def test_usage_errors_exit_two(cli: Cli, db: tuple[str, SqlStore, str, str]) -> None:
    code, _, err = cli("replay", db[2], "--live-tools", "--path", str(HERE))
    assert code == 2 and "--live-tools applies only with --with" in err
    code, _, err = cli("replay", "ffffffffffff", "--path", str(HERE))
    assert code == 2 and "no run with that id" in err
    code, _, err = cli("replay", db[2], "--with", "shop-bot@7", "--path", str(HERE))
    assert code == 2 and "shop-bot@7" in err


def test_default_path_is_the_current_directory(
    cli: Cli, db: tuple[str, SqlStore, str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(HERE)
    code, out, _ = cli("replay", db[3])
    assert code == 0, out


def test_trace_shows_a_replay_run(cli: Cli, db: tuple[str, SqlStore, str, str]) -> None:
    code, out, _ = cli("replay", db[3], "--path", str(HERE), "--json")
    replay_id = json.loads(out)["replay_trace_id"]
    code, out, _ = cli("trace", replay_id)
    assert code == 0
    assert f"reproduce replay of {db[3]}" in out and "served by replay" in out
    code, out, _ = cli("trace", replay_id, "--json")
    assert code == 0 and json.loads(out)["run"]["attributes"]["replay.of"] == db[3]


def test_docs_have_a_replay_section_naming_every_option() -> None:
    text = DOCS.read_text("utf-8")
    assert "## agentdeck replay\n" in text
    section = text.split("## agentdeck replay\n", 1)[1].split("\n## ", 1)[0]
    for opt in ("--with", "--live-tools", "--path", "--db", "--json"):
        assert f"`{opt}" in section, opt
