"""``promote --canary`` and ``canary status|pause|resume|abort`` from the CLI: the same JSON
shape as the API, one-line errors with exit 2 that change nothing."""

from __future__ import annotations

import json
from datetime import datetime

from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLE_V2, Cli, assert_user_error


def _deployed(cli: Cli) -> None:
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("register", EXAMPLE_V2).code == 0
    assert cli("env", "gates", "production", "--disable", "previous-env").code == 0
    assert cli("promote", "support-bot@1", "--to", "production").code == 0


def test_a_canary_from_the_cli_start_status_pause_resume_abort(cli: Cli, seeded: SqlStore) -> None:
    _deployed(cli)
    r = cli("promote", "support-bot@2", "--to", "production", "--canary", "10", "--json")
    assert r.code == 0, r.err
    started = json.loads(r.out)
    assert started["state"] == "running" and started["share"] == 10.0
    assert [s["share"] for s in started["plan"]] == [10.0, 25.0, 50.0, 100.0]
    status = cli("canary", "status", "support-bot", "--env", "production", "--json")
    body = json.loads(status.out)
    assert body["id"] == started["id"] and body["judgement"]["decision"] == "hold"
    assert len(body["judgement"]["metrics"]) == 9
    text = cli("canary", "status", "support-bot", "--env", "production")
    assert "running, 10 % of runs" in text.out and "tool_error" in text.out
    assert "lower bound above 0" in text.out
    assert (
        json.loads(cli("canary", "pause", "support-bot", "--env", "production", "--json").out)[
            "state"
        ]
        == "paused"
    )
    assert "running" in cli("canary", "resume", "support-bot", "--env", "production").out
    aborted = cli("canary", "abort", "support-bot", "--env", "production", "--reason", "enough")
    assert aborted.code == 0 and "aborted" in aborted.out
    audit = [e.action for e in seeded.audit_entries() if e.action.startswith("deployment.canary")]
    assert audit == [
        "deployment.canary.start",
        "deployment.canary.pause",
        "deployment.canary.resume",
        "deployment.canary.abort",
    ]


def test_bad_canary_input_is_one_line_and_changes_nothing(cli: Cli, seeded: SqlStore) -> None:
    _deployed(cli)
    assert_user_error(
        cli("promote", "support-bot@2", "--to", "production", "--canary", "0"), "--canary"
    )
    assert_user_error(
        cli("promote", "support-bot@1", "--to", "production", "--canary", "5"), "already"
    )
    assert_user_error(
        cli("promote", "support-bot@2", "--to", "production", "--canary", "5",
            "--canary-id", "not-hex"),
        "--canary-id: expected 32 lowercase hex digits",
    )  # fmt: skip
    assert_user_error(
        cli("promote", "support-bot@2", "--to", "production", "--canary-id", "a" * 32),
        "--canary-id: only with --canary",
    )
    assert_user_error(cli("canary", "abort", "support-bot", "--env", "production"), "no canary")
    assert_user_error(cli("canary", "status", "support-bot", "--env", "nowhere"), "nowhere")
    assert_user_error(
        cli("env", "gates", "production", "--set", "canary.guardrail={}"),
        "did you mean 'guardrails'",
    )
    assert seeded.active_canaries() == []


def test_history_and_at_tell_the_canary_among_the_deployments(cli: Cli, seeded: SqlStore) -> None:
    _deployed(cli)
    started = json.loads(
        cli("promote", "support-bot@2", "--to", "production", "--canary", "10", "--json").out
    )
    now = cli("at", "support-bot", "--env", "production", "--time", "now")
    assert now.code == 0, now.err
    assert "ran support-bot@1" in now.out  # the stable arm is what the env's head runs ...
    # ... and the canary beside it: the candidate, its share, since when, its id
    assert "canary of support-bot@2: 10 % of runs" in now.out, now.out
    assert started["id"][:12] in now.out
    assert (
        cli("canary", "abort", "support-bot", "--env", "production", "--reason", "INC-9").code == 0
    )
    steps = seeded.audit_entries("support-bot@production", "deployment.canary.")
    assert [e.action for e in steps] == ["deployment.canary.start", "deployment.canary.abort"]
    t0, t1 = (datetime.fromisoformat(e.at) for e in steps)
    while_on = (t0 + (t1 - t0) / 2).isoformat()
    during = cli("at", "support-bot", "--env", "production", "--time", while_on)
    assert "canary of support-bot@2: 10 % of runs" in during.out, during.out
    assert "aborted " in during.out, during.out  # how it ended, and when
    after = cli("at", "support-bot", "--env", "production", "--time", "now")
    assert "canary" not in after.out, after.out
    hist = cli("history", "support-bot", "--env", "production")
    assert hist.code == 0, hist.err
    lines = hist.out.splitlines()
    promote = next(i for i, ln in enumerate(lines) if " promote " in ln)
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("canary started"))
    abort = next(i for i, ln in enumerate(lines) if ln.strip().startswith("canary aborted"))
    assert promote < start < abort, hist.out
    # a canary's line: no position (not a deployment), the candidate, its share from then on
    assert lines[start - 1].split()[2:5] == ["canary", "2", "sha256:09f01d82"], hist.out
    assert "10 %" in lines[start - 1] and "0 %" in lines[abort - 1], hist.out
    assert "INC-9" in lines[abort] and started["id"][:12] in lines[start], hist.out
    # --json stays the deployments (the API's shape)
    deps = json.loads(cli("history", "support-bot", "--env", "production", "--json").out)
    assert [d["action"] for d in deps] == ["promote"]


def test_a_fixed_canary_id_is_the_canary_and_its_deployment_id(cli: Cli, seeded: SqlStore) -> None:
    # The id salts each session's arm: fixing it makes the split reproducible (the demo does).
    _deployed(cli)
    fixed = "b8a1abcd1a6916c74da4f9fc3c6da5d7"
    r = cli("promote", "support-bot@2", "--to", "production", "--canary", "25",
            "--canary-id", fixed, "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert json.loads(r.out)["id"] == fixed
    assert [c.id for c in seeded.active_canaries()] == [fixed]
