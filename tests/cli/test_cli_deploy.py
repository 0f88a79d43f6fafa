"""``env``, ``promote``, ``rollback``, ``history``, ``at``, ``mark`` and ``audit`` from the CLI."""

from __future__ import annotations

import json
from datetime import timedelta

from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLE_V2, Cli, assert_user_error, row_counts


def _two_versions(cli: Cli) -> None:
    assert cli("register", EXAMPLE_V1).code == 0
    assert cli("register", EXAMPLE_V2).code == 0


def _history(cli: Cli, env: str) -> list[dict[str, object]]:
    r = cli("history", "support-bot", "--env", env, "--json")
    assert r.code == 0, r.err
    return json.loads(r.out)  # type: ignore[no-any-return]


def test_env_path_is_configurable(cli: Cli, seeded: SqlStore) -> None:
    r = cli("env", "path", "dev", "qa", "prod")
    assert r.code == 0 and "dev -> qa -> prod" in r.out
    listed = json.loads(cli("env", "list", "--json").out)
    assert [e["env"] for e in listed] == ["dev", "qa", "prod"]
    _two_versions(cli)
    assert cli("promote", "support-bot@1", "--to", "dev").code == 0
    assert cli("promote", "support-bot@1", "--to", "qa").code == 0
    assert cli("promote", "support-bot@1", "--to", "prod").code == 0
    assert_user_error(
        cli("promote", "support-bot@1", "--to", "staging"), "'staging'", "dev -> qa -> prod"
    )
    assert_user_error(cli("env", "path", "dev", "dev"), "distinct")


def test_env_gates_are_kept_in_the_store(cli: Cli, seeded: SqlStore) -> None:
    r = cli(
        "env",
        "gates",
        "production",
        "--set",
        "eval.min_pass_rate=0.95",
        "--set",
        "eval.suite=smoke",
        "--disable",
        "previous-env",
        "--json",
    )
    assert r.code == 0, r.err
    cfg = seeded.get_gate_config("production")
    assert cfg.settings == {"eval": {"min_pass_rate": 0.95, "suite": "smoke"}}
    assert cfg.disabled == ("previous-env",)
    listed = {e["env"]: e for e in json.loads(cli("env", "list", "--json").out)}
    assert listed["production"]["disabled"] == ["previous-env"]
    assert "previous-env" in cli("env", "list").out
    assert cli("env", "gates", "production", "--enable", "previous-env").code == 0
    assert seeded.get_gate_config("production").disabled == ()
    assert seeded.get_gate_config("production").settings == {
        "eval": {"min_pass_rate": 0.95, "suite": "smoke"}
    }
    assert_user_error(
        cli("env", "gates", "production", "--set", "nodot=1"), "--set 'nodot=1'", "gate.key=value"
    )
    assert_user_error(cli("env", "gates", "qa"), "'qa'", "not on the promotion path")


def test_promote_dev_staging_production(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    r = cli("promote", "support-bot@1", "--to", "dev")
    assert r.code == 0 and "previous-env" in r.out and "deploy support-bot@1 -> dev" in r.out
    assert cli("promote", "support-bot@dev", "--to", "staging").code == 0
    out = json.loads(cli("promote", "support-bot@staging", "--to", "production", "--json").out)
    assert out["deployment"]["env"] == "production" and out["deployment"]["action"] == "promote"
    assert {"name": "previous-env", "passed": True, "reason": "deployed in 'staging'"} in out[
        "gates"
    ]
    assert all(g["passed"] for g in out["gates"])
    assert json.loads(cli("show", "support-bot@production", "--json").out)["version"] == 1


def test_production_without_staging_is_blocked(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    assert cli("promote", "support-bot@2", "--to", "dev").code == 0
    before = row_counts(seeded)
    r = cli("promote", "support-bot@2", "--to", "production")
    assert r.code == 1
    (line,) = r.err.strip().splitlines()
    assert "gate 'previous-env'" in line and "support-bot@2 was never deployed in 'staging'" in line
    assert "Traceback" not in r.err
    assert row_counts(seeded) == before


def test_force_needs_a_reason(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    before = row_counts(seeded)
    assert_user_error(
        cli("promote", "support-bot@2", "--to", "production", "--force"), "--force needs --reason"
    )
    assert row_counts(seeded) == before


def test_force_with_reason_is_recorded(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    r = cli(
        "promote",
        "support-bot@2",
        "--to",
        "production",
        "--force",
        "--reason",
        "hotfix INC-9",
        "--actor",
        "alice",
    )
    assert r.code == 0 and "(forced)" in r.out and "FAIL" in r.out
    (entry,) = _history(cli, "production")
    assert (
        entry["forced"] is True
        and "hotfix INC-9" in str(entry["reason"])
        and entry["actor"] == "alice"
    )
    log = json.loads(cli("audit", "log", "--json").out)
    last = log[-1]
    assert last["action"] == "deployment.promote" and last["actor"] == "alice"
    assert last["payload"]["forced"] is True and "hotfix INC-9" in last["payload"]["reason"]
    assert "(forced)" in cli("history", "support-bot", "--env", "production").out


def test_rollback_default_skips_bad_and_to_ref(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    for ref in ("support-bot@1", "support-bot@2"):
        assert cli("promote", ref, "--to", "dev").code == 0
    r = cli("rollback", "support-bot", "--env", "dev", "--reason", "INC-1")
    assert r.code == 0 and "rolled back support-bot in dev to support-bot@1" in r.out
    hist = _history(cli, "dev")
    assert [(h["version"], h["action"], h["health"]) for h in hist] == [
        (1, "deploy", "unknown"),
        (2, "deploy", "bad"),
        (1, "rollback", "unknown"),
    ]
    assert hist[2]["reason"] == "INC-1" and hist[2]["previous_id"] == hist[1]["id"]
    # v1 is now the head; its earlier deployment is the only other v1, and v2 is bad: nowhere to go.
    assert_user_error(
        cli("rollback", "support-bot", "--env", "dev"), "support-bot@dev", "no earlier known-good"
    )
    out = json.loads(
        cli("rollback", "support-bot", "--env", "dev", "--to", "support-bot@2", "--json").out
    )
    assert out["version"] == 2 and out["action"] == "rollback" and out["seq"] == 4


def test_history_table(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    assert (
        "nothing of support-bot has been deployed in dev"
        in cli("history", "support-bot", "--env", "dev").out
    )
    cli("promote", "support-bot@1", "--to", "dev")
    table = cli("history", "support-bot", "--env", "dev")
    assert (
        table.code == 0
        and "support-bot in dev" in table.out
        and "deploy" in table.out
        and "tester" in table.out
    )


def test_at_before_between_and_after(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    cli("promote", "support-bot@1", "--to", "dev")
    cli("promote", "support-bot@2", "--to", "dev")
    d1, d2 = seeded.history("support-bot", "dev")
    assert d2.at > d1.at

    def at(when: str) -> tuple[int, object]:
        r = cli("at", "support-bot", "--env", "dev", "--time", when, "--json")
        return r.code, json.loads(r.out)

    assert at((d1.at - timedelta(seconds=5)).isoformat()) == (0, None)
    code, between = at((d2.at - timedelta(microseconds=1)).isoformat())
    assert code == 0 and between["id"] == d1.id  # type: ignore[index]
    code, after = at("now")
    assert after["id"] == d2.id  # type: ignore[index]
    naive_utc = (d2.at + timedelta(seconds=1)).replace(tzinfo=None).isoformat()
    assert at(naive_utc)[1]["version"] == 2  # type: ignore[index]
    before_text = cli(
        "at", "support-bot", "--env", "dev", "--time", (d1.at - timedelta(seconds=5)).isoformat()
    )
    assert before_text.code == 1 and "nothing of support-bot was deployed in dev" in before_text.out
    after_text = cli("at", "support-bot", "--env", "dev", "--time", "now")
    assert (
        after_text.code == 0 and "ran support-bot@2" in after_text.out and d2.id in after_text.out
    )
    assert_user_error(
        cli("at", "support-bot", "--env", "dev", "--time", "yesterday-ish"),
        "--time",
        "'yesterday-ish'",
    )


def test_mark_good_and_bad(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    cli("promote", "support-bot@1", "--to", "dev")
    first = seeded.history("support-bot", "dev")[0]
    cli("promote", "support-bot@2", "--to", "dev")
    r = cli("mark", "support-bot", "--env", "dev", "good")
    assert r.code == 0 and "marked support-bot@2 in dev" in r.out
    bad = json.loads(
        cli("mark", "support-bot", "--env", "dev", "bad", "--deployment", first.id, "--json").out
    )
    assert bad["id"] == first.id and bad["health"] == "bad"
    assert [h["health"] for h in _history(cli, "dev")] == ["bad", "good"]
    assert_user_error(cli("mark", "support-bot", "--env", "dev", "meh"), "health", "'meh'")
    assert_user_error(
        cli("mark", "support-bot", "--env", "staging", "good"),
        "support-bot@staging",
        "no such deployment",
    )


def test_audit_log_and_verify(cli: Cli, seeded: SqlStore) -> None:
    _two_versions(cli)
    cli("promote", "support-bot@1", "--to", "dev")
    log = json.loads(cli("audit", "log", "--json").out)
    assert [e["action"] for e in log] == [
        "policy.register",
        "agent.register",
        "agent.register",
        "deployment.deploy",
    ]
    assert [e["seq"] for e in log] == [1, 2, 3, 4]
    assert len(json.loads(cli("audit", "log", "-n", "2", "--json").out)) == 2
    assert "deployment.deploy" in cli("audit", "log").out
    ok = cli("audit", "verify", "--json")
    assert ok.code == 0 and json.loads(ok.out) == {
        "ok": True,
        "entries": 4,
        "deployments": 1,
        "checkpoints": 0,
        "problems": [],
    }
    with seeded.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET subject = 'other-bot' WHERE seq = 2")
    broken = cli("audit", "verify", "--json")
    assert broken.code == 1
    assert json.loads(broken.out)["problems"][0]["seq"] == 2
