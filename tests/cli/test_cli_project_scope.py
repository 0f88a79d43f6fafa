"""``--project`` on the commands that list or act on a project's records (monitoring, alerts,
baselines, findings, checks; canaries and deployments): project B's view shows none of A's
records, A's ids and names are refused as missing (one line, exit 2), and without
``--project`` the commands act in ``default`` as before. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id
from agentdeck.store import SqlStore
from agentdeck.store.protocol import AlertRecord, FindingRecord
from foundation import Cli, assert_user_error

_SPEC = "name: {}\nmodel: {{provider: openai, id: gpt-4o-2024-08-06}}\n"
B = ("--project", "team-b")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The CLI's database on each backend (PostgreSQL: a schema of this test's own)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cli.db'}"
    schema = request.getfixturevalue("pg_schema")
    pg_url = os.environ.get(
        "AGENTDECK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    return f"{pg_url}?options=-csearch_path%3D{schema}"


@dataclass
class Two:
    """``alpha`` of ``default`` (A) with run ``a_run``; ``beta`` of ``team-b`` (B) with
    ``b_run``; an alert, a finding and a baseline of each."""

    a_run: str
    b_run: str


def _run(tid: str, agent: str, project: str) -> tuple[Run, list[Span]]:
    t0 = 1_700_000_000_000_000_000
    root = new_span_id()
    run = Run(tid, agent, 1, None, "production", None, t0, t0 + 10**8, SpanStatus.OK,
              project=project)  # fmt: skip
    span = Span(tid, root, None, agent, SpanKind.AGENT, t0, t0 + 10**8, 0, SpanStatus.OK,
                attributes={"agent.name": agent, "agent.version": 1})  # fmt: skip
    return run, [span]


@pytest.fixture
def two(cli: Cli, store: SqlStore, tmp_path: Path) -> Two:
    assert cli("projects", "create", "team-b").code == 0
    for name, where in (("alpha", ()), ("beta", B)):
        spec = tmp_path / f"{name}.yaml"
        spec.write_text(_SPEC.format(name))
        assert cli("register", spec, *where).code == 0
    a_run, a_spans = _run("a" * 32, "alpha", "default")
    b_run, b_spans = _run("b" * 32, "beta", "team-b")
    store.write_batch([a_run, b_run], a_spans + b_spans)
    now = datetime.now(UTC)
    for x, agent, tid in (("a", "alpha", a_run.trace_id), ("b", "beta", b_run.trace_id)):
        store.put_alert(AlertRecord(f"al-{x}", "errors", agent, agent, "production", "warning",
                                    "open", "too many errors", 0.5, now, now, now))  # fmt: skip
        store.put_findings([FindingRecord(f"fnd-{x}", tid, "s" * 16, agent, "production",
                                          "loop", "warning", "looping", now)])  # fmt: skip
    for agent, where in (("alpha", ()), ("beta", B)):
        made = cli("baseline", "create", f"{agent}-base", "--agent", agent, *where)
        assert made.code == 0, made.err
    return Two(a_run.trace_id, b_run.trace_id)


def _ids(cli: Cli, *args: str, key: str = "id") -> list[str]:
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    return [x[key] for x in json.loads(r.out)]


def test_alerts_are_the_projects_own(cli: Cli, two: Two) -> None:
    assert _ids(cli, "alerts") == ["al-a"]
    assert _ids(cli, "alerts", *B) == ["al-b"]
    assert _ids(cli, "alerts", "--all", *B) == ["al-b"]
    for action in ("ack", "resolve"):
        assert_user_error(cli("alerts", action, "al-a", *B), "no alert with that id")
    acked = cli("alerts", "ack", "al-b", *B, "--json")
    assert acked.code == 0 and json.loads(acked.out)["status"] == "acknowledged"
    assert cli("alerts", "resolve", "al-a").code == 0  # default: as before


def test_findings_checks_and_baselines_are_the_projects_own(cli: Cli, two: Two) -> None:
    assert _ids(cli, "findings") == ["fnd-a"]
    assert _ids(cli, "findings", *B) == ["fnd-b"]
    assert_user_error(cli("findings", "--run", two.a_run, *B), "no run with that id")
    assert_user_error(cli("check", two.a_run, *B), "no run with that id")
    assert_user_error(cli("check", two.a_run[:8], *B), "no run with that id")
    assert cli("check", two.b_run[:8], *B).code == 0
    assert cli("check", two.a_run[:8]).code == 0
    assert _ids(cli, "baseline", "list", key="name") == ["alpha-base"]
    assert _ids(cli, "baseline", "list", *B, key="name") == ["beta-base"]
    assert_user_error(cli("baseline", "show", "alpha-base", *B), "no baseline with that name")
    assert cli("baseline", "show", "beta-base", *B).code == 0
    assert_user_error(cli("baseline", "create", "x", "--agent", "alpha", *B), "no agent")
    made = cli("baseline", "create", "beta-2", "--agent", "beta", *B)
    assert made.code == 0, made.err
    assert "beta-2" in _ids(cli, "baseline", "list", *B, key="name")


def _rules(extra: str) -> str:
    return ("rules:\n  - name: loops\n    check: loop\n    severity: warning\n    window: 1h\n"
            f"    {extra}\n")  # fmt: skip


def test_monitor_is_the_projects_own(cli: Cli, two: Two, tmp_path: Path) -> None:
    assert_user_error(cli("monitor", "--agent", "alpha", *B), "no agent")
    assert_user_error(cli("monitor", "--agent", "beta", "--baseline", "alpha-base", *B),
                      "no baseline with that name")  # fmt: skip
    rules = tmp_path / "rules.yaml"
    rules.write_text(_rules("agent: alpha"))
    assert_user_error(cli("monitor", "--rules", rules, *B), "no agent")
    assert_user_error(cli("monitor", "--rules", rules, "--follow", "--iterations", "1", *B),
                      "no agent")  # fmt: skip
    rules.write_text(_rules(""))
    assert_user_error(cli("monitor", "--rules", rules, *B), "--rules", "give it an agent")
    assert cli("monitor", "--rules", rules, "--json").code == 0
    rules.write_text(_rules("agent: beta"))
    assert cli("monitor", "--rules", rules, "--json", *B).code == 0
    metric = "metric: drift\n    agent: beta\n    baseline: alpha-base"
    rules.write_text(_rules(metric).replace("    check: loop\n", ""))
    assert_user_error(cli("monitor", "--rules", rules, *B), "no baseline with that name")


def test_an_unknown_project_is_refused_naming_the_option(cli: Cli, two: Two) -> None:
    dev = ("--env", "dev")
    every: list[tuple[str, ...]] = [
        ("alerts",), ("alerts", "ack", "al-a"), ("alerts", "resolve", "al-a"), ("findings",),
        ("baseline", "list"), ("baseline", "show", "alpha-base"),
        ("baseline", "create", "x", "--agent", "alpha"), ("check", two.a_run),
        ("monitor", "--agent", "alpha"), ("canary", "status", "alpha", *dev),
        ("canary", "abort", "alpha", *dev), ("promote", "alpha@1", "--to", "dev"),
        ("rollback", "alpha", *dev), ("mark", "alpha", *dev, "good"), ("history", "alpha", *dev),
        ("at", "alpha", *dev, "--time", "now"), ("queue", "list"), ("queue", "next", "q"),
        ("trace", two.a_run), ("rca", two.a_run), ("replay", two.a_run),
        ("feedback", two.a_run, "--score", "1"), ("versions", "alpha"), ("show", "alpha@1"),
        ("diff", "alpha@1", "alpha@1"), ("cost",), ("export", "-o", "-"), ("scores", "alpha"),
        ("policy", "approvals"), ("policy", "approve", "apr_x"),
    ]  # fmt: skip
    for args in every:
        assert_user_error(cli(*args, "--project", "nope"), "--project: no project 'nope'")


def test_deployments_and_canaries_are_the_projects_own(cli: Cli, two: Two) -> None:
    assert cli("promote", "alpha@1", "--to", "dev").code == 0
    dev = ("--env", "dev")
    for args in (
        ("promote", "alpha@1", "--to", "dev"),
        ("promote", "alpha@1", "--to", "dev", "--canary", "10"),
        ("rollback", "alpha", *dev),
        ("rollback", "beta", *dev, "--to", "alpha@1"),
        ("mark", "alpha", *dev, "bad"),
        ("history", "alpha", *dev),
        ("at", "alpha", *dev, "--time", "now"),
        ("canary", "status", "alpha", *dev),
        ("canary", "pause", "alpha", *dev),
        ("canary", "resume", "alpha", *dev),
        ("canary", "abort", "alpha", *dev),
    ):
        assert_user_error(cli(*args, *B), "alpha", "no agent of that name is registered")
    made = cli("promote", "beta@1", "--to", "dev", *B, "--json")
    assert made.code == 0, made.err
    history = json.loads(cli("history", "beta", *dev, *B, "--json").out)
    assert [d["agent"] for d in history] == ["beta"]
    assert cli("mark", "beta", *dev, "good", *B).code == 0
    at = cli("at", "beta", *dev, "--time", "now", *B, "--json")
    assert at.code == 0 and json.loads(at.out)["agent"] == "beta"
    assert len(json.loads(cli("history", "alpha", *dev, "--json").out)) == 1  # default: as before
    assert cli("mark", "alpha", *dev, "good").code == 0


def test_review_queues_are_the_projects_own(cli: Cli, two: Two, tmp_path: Path) -> None:
    schema = tmp_path / "labels.yaml"
    schema.write_text("labels:\n  - {name: correct, pass: true}\n")
    a = cli("queue", "create", "a-q", "--schema", schema, "--json")
    assert a.code == 0 and json.loads(a.out)["total"] == 1
    b = cli("queue", "create", "b-q", "--schema", schema, *B, "--json")
    assert b.code == 0 and json.loads(b.out)["total"] == 1
    assert _ids(cli, "queue", "list", key="name") == ["a-q"]
    assert _ids(cli, "queue", "list", *B, key="name") == ["b-q"]
    nxt = json.loads(cli("queue", "next", "b-q", *B, "--json").out)
    assert nxt["run"]["trace_id"] == two.b_run
    for args in (("next", "a-q"), ("label", "a-q", two.a_run, "correct"),
                 ("skip", "a-q", two.a_run)):  # fmt: skip
        assert_user_error(cli("queue", *args, *B), "no such queue")
    assert_user_error(cli("queue", "next", "b-q"), "no such queue")
    assert_user_error(cli("queue", "label", "b-q", two.a_run, "correct", *B), two.a_run[:8])
    assert cli("queue", "label", "b-q", two.b_run, "correct", *B).code == 0
    assert cli("queue", "skip", "a-q", two.a_run).code == 0  # default: as before


def test_runs_and_agents_are_the_projects_own(cli: Cli, two: Two) -> None:
    for args in (("trace", two.a_run), ("trace", two.a_run[:8]), ("rca", two.a_run),
                 ("rca", two.a_run[:8]), ("feedback", two.a_run, "--score", "1"),
                 ("replay", two.a_run)):  # fmt: skip
        assert_user_error(cli(*args, *B), "no run with that id")
    t = cli("trace", two.b_run[:8], *B, "--json")
    assert t.code == 0 and json.loads(t.out)["run"]["trace_id"] == two.b_run
    assert cli("rca", two.b_run[:8], *B).code == 0
    assert cli("feedback", two.b_run[:8], "--score", "1", *B).code == 0
    refused: list[tuple[str, ...]] = [
        ("versions", "alpha"),
        ("show", "alpha@1"),
        ("diff", "alpha@1", "alpha@1"),
        ("diff", "beta@1", "alpha@1"),
        ("replay", two.b_run, "--with", "alpha@1"),
    ]
    for refused_args in refused:
        assert_user_error(cli(*refused_args, *B), "alpha", "no agent of that name is registered")
    assert [v["name"] for v in json.loads(cli("versions", "beta", *B, "--json").out)] == ["beta"]
    assert cli("show", "beta@1", *B).code == 0 and cli("diff", "beta@1", "beta@1", *B).code == 0
    cost = json.loads(cli("cost", "--by", "agent", *B, "--json").out)
    assert [c["agent"] for c in cost] == ["beta"]
    # default: as before
    assert json.loads(cli("trace", two.a_run[:8], "--json").out)["run"]["agent_name"] == "alpha"
    assert [c["agent"] for c in json.loads(cli("cost", "--by", "agent", "--json").out)] == ["alpha"]
    assert cli("versions", "alpha").code == 0


def test_approvals_scores_and_export_are_the_projects_own(
    cli: Cli, two: Two, store: SqlStore
) -> None:
    from agentdeck.store.protocol import ApprovalRecord

    now = datetime.now(UTC)
    for x, agent in (("a", "alpha"), ("b", "beta")):
        store.put_approval(ApprovalRecord(
            f"apr_{x}", "pending", "refund", {"amount": 120}, agent, 1, "sha256:" + "b" * 64,
            "dev", "refunds", 1, "sha256:" + "c" * 64, ("big",), "over 100", x * 32, "s" * 16,
            now, now.replace(year=now.year + 1), None, None, None))  # fmt: skip
    assert _ids(cli, "policy", "approvals") == ["apr_a"]
    assert _ids(cli, "policy", "approvals", *B) == ["apr_b"]
    for verb in ("approve", "reject"):
        assert_user_error(cli("policy", verb, "apr_a", *B), "no approval request with that id")
    assert cli("policy", "approve", "apr_b", *B).code == 0
    assert cli("policy", "reject", "apr_a").code == 0  # default: as before
    assert_user_error(cli("scores", "alpha", *B), "no agent of that name is registered")
    assert json.loads(cli("scores", "beta", *B, "--json").out) == []
    exported = cli("export", "-o", "-", *B)
    assert exported.code == 0, exported.err
    runs = [json.loads(x) for x in exported.out.splitlines()]
    assert {r["trace_id"] for r in runs if r["record"] == "run"} == {two.b_run}
    default = [json.loads(x) for x in cli("export", "-o", "-").out.splitlines()]
    assert {r["trace_id"] for r in default if r["record"] == "run"} == {two.a_run}


def test_the_audit_log_is_the_projects_own(cli: Cli, two: Two) -> None:
    def log(*args: str) -> list[dict[str, object]]:
        r = cli("audit", "log", "-n", "1000", *args, "--json")
        assert r.code == 0, r.err
        return list(json.loads(r.out))

    b = log(*B)
    assert {(e["action"], e["subject"]) for e in b} >= {
        ("project.create", "team-b"),
        ("agent.register", "beta"),
    }
    assert {e["project"] for e in b} <= {"team-b", "*"}
    assert not [e for e in b if "alpha" in str(e)]
    a = log()
    assert ("agent.register", "alpha") in {(e["action"], e["subject"]) for e in a}
    assert not [e for e in a if "beta" in str(e) or e["project"] == "team-b"]
    every = log("--all-projects")
    assert sorted(e["seq"] for e in every) == sorted({e["seq"] for e in a} | {e["seq"] for e in b})
    table = cli("audit", "log", *B)
    assert table.code == 0 and "team-b" in table.out and "beta" in table.out
    assert_user_error(cli("audit", "log", "--all-projects", *B), "--all-projects")
    assert_user_error(cli("audit", "log", "--project", "nope"), "--project", "no project 'nope'")
