"""``agentdeck policy simulate``: runs recorded through the SDK into the CLI's database, then
simulated under a policy file and a registered version (tables, --json, --changed-only, errors)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from agentdeck.core.errors import PolicyDenied
from agentdeck.policy.enforcer import PolicyGuard, RegistryPolicySource
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from agentdeck.tracing.sdk import api as sdk
from foundation import EXAMPLE_V1, EXAMPLES, Cli, assert_user_error

POLICY = EXAMPLES / "policy.yaml"


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "delivered"}


@sdk.tool
def verify_identity(order_id: str, email: str) -> dict[str, Any]:
    return {"verified": True}


@sdk.tool
def issue_refund(order_id: str, amount: float, reason: str) -> dict[str, Any]:
    return {"refund_id": f"R-{order_id}", "status": "issued"}


@pytest.fixture(autouse=True)
def _shutdown() -> Iterator[None]:
    yield
    sdk.shutdown(timeout=5)


@pytest.fixture
def recorded(cli: Cli, store: SqlStore, tmp_path: Path) -> dict[str, str]:
    """support-refunds@1 and support-bot@1 registered through the CLI; two runs recorded
    under it: an 80 refund after verifying (allowed), and a refund before verifying (denied)
    followed by a verified 40 refund."""
    assert cli("policy", "register", POLICY).code == 0
    assert cli("register", EXAMPLE_V1).code == 0
    reg = Registry(store)
    sink = sdk.InMemorySink()
    sdk.init(sink=sink, resolver=CachingResolver(reg), guard=PolicyGuard(RegistryPolicySource(reg)),
             spill_dir=tmp_path / "spill", schedule_delay=0.02, env="production")  # fmt: skip
    ids: dict[str, str] = {}
    with sdk.run(agent="support-bot@1") as run:
        lookup_order("ORD-1")
        verify_identity("ORD-1", "jane@example.com")
        issue_refund("ORD-1", 80.0, "damaged")
    ids["small"] = run.trace_id
    with sdk.run(agent="support-bot@1") as run:
        lookup_order("ORD-2")
        with pytest.raises(PolicyDenied):
            issue_refund("ORD-2", 40.0, "damaged")
        verify_identity("ORD-2", "jane@example.com")
        issue_refund("ORD-2", 40.0, "damaged")
    ids["retry"] = run.trace_id
    assert sdk.flush(5)
    store.write_batch(sink.runs, sink.spans)
    return ids


def _stricter_file(tmp_path: Path) -> Path:
    """The example policy with approval from 50 instead of 100 (a file, not registered)."""
    doc = yaml.safe_load(POLICY.read_text("utf-8"))
    for rule in doc["rules"]:
        if rule["id"] == "refund-needs-approval":
            rule["when"] = rule["when"].replace("args.amount > 100", "args.amount > 50")
    path = tmp_path / "stricter.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_stricter_file_shows_the_changed_call(
    cli: Cli, recorded: dict[str, str], tmp_path: Path
) -> None:
    stricter = _stricter_file(tmp_path)
    r = cli("policy", "simulate", stricter, "--agent", "support-bot", "--json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    s = data["summary"]
    assert (s["runs"], s["calls"], s["recorded"], s["changed"]) == (2, 7, 7, 1)
    assert s["changes"] == {"allow->require_approval": 1}
    assert s["effects"] == {"allow": 5, "warn": 0, "require_approval": 1, "deny": 1}
    assert s["policy"] == str(stricter) and s["stopped_runs"] == 2
    assert len(data["calls"]) == 7
    assert data["selection"]["agent"] == "support-bot"

    r = cli("policy", "simulate", stricter, "--agent", "support-bot", "--json", "--changed-only")
    (call,) = json.loads(r.out)["calls"]
    assert (call["trace_id"], call["step"], call["tool"]) == (recorded["small"], 2, "issue_refund")
    assert (call["recorded"], call["effect"], call["rules"]) == (
        "allow", "require_approval", ["refund-needs-approval"]
    )  # fmt: skip

    r = cli("policy", "simulate", stricter, "--agent", "support-bot", "--env", "production")
    assert r.code == 0, r.err
    assert "calls whose decision changes (1)" in r.out
    assert recorded["small"][:12] in r.out
    assert "allow -> require_approval" in r.out and "refund-needs-approval" in r.out
    assert "runs it would stop (2)" in r.out
    assert recorded["retry"][:12] in r.out  # stopped at its denied refund


def test_the_recorded_version_changes_nothing(cli: Cli, recorded: dict[str, str]) -> None:
    r = cli("policy", "simulate", "support-refunds@1", "--agent", "support-bot", "--changed-only")
    assert r.code == 0, r.err
    assert "no recorded decision changes" in r.out
    assert "runs it would stop" not in r.out  # --changed-only lists changed calls only
    r = cli("policy", "simulate", "support-refunds@1", "--agent", "support-bot", "--version", "1",
            "--limit", "1", "--json")  # fmt: skip
    s = json.loads(r.out)["summary"]
    assert (s["policy"], s["runs"], s["changed"]) == ("support-refunds@1", 1, 0)


def test_no_matching_runs_is_not_an_error(cli: Cli, recorded: dict[str, str]) -> None:
    r = cli("policy", "simulate", "support-refunds@1", "--agent", "support-bot", "--env", "dev")
    assert r.code == 0 and "no recorded runs of support-bot match" in r.out


def test_bad_input_is_one_line_and_exit_2(cli: Cli, recorded: dict[str, str]) -> None:
    assert_user_error(cli("policy", "simulate", "nope@3", "--agent", "support-bot"), "nope@3")
    assert_user_error(
        cli("policy", "simulate", "support-refunds@1", "--agent", "support-bot", "--since",
            "yesterday"),
        "--since", "yesterday",
    )  # fmt: skip
    assert_user_error(
        cli("policy", "simulate", "support-refunds@1", "--agent", "support-bot", "--until", "x"),
        "--until",
    )
    r = cli("policy", "simulate", "support-refunds@1")  # --agent is required
    assert r.code == 2 and "--agent" in r.err
    r = cli("policy", "simulate", "support-refunds@1", "--agent", "a", "--limit", "0")
    assert r.code == 2 and "--limit" in r.err
