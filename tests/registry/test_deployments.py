"""Deployments on both backends: path, gates, promote, force, rollback, history, at, mark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from agentdeck.core.deploy.model import DEFAULT_PATH, Action, GateConfig, GateResult, Health
from agentdeck.core.errors import (
    GateBlocked,
    InputError,
    UnknownEnvironmentError,
    UnresolvedReferenceError,
)
from agentdeck.evals.gates import EvalGate
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.gates import GateContext, PreviousEnvGate
from agentdeck.registry.service import Registry
from agentdeck.store import SqlStore
from foundation import make_spec, row_counts


def _registered(store: SqlStore, n: int = 3) -> Deployments:
    reg = Registry(store)
    for i in range(1, n + 1):
        reg.register_agent(make_spec(prompt=f"prompt {i}"))
    return Deployments(store, reg)


def _through(svc: Deployments, ref: str, envs: tuple[str, ...] = DEFAULT_PATH) -> None:
    for env in envs:
        svc.promote(ref, env)


# -- environments and gate settings ---------------------------------------------------------


def test_default_path_and_a_configured_one(store: SqlStore) -> None:
    svc = _registered(store, 1)
    assert svc.path().envs == ("dev", "staging", "production")
    svc.set_path(["dev", "qa", "prod"])
    assert Deployments(store).path().envs == ("dev", "qa", "prod")
    _through(svc, "bot@1", ("dev", "qa", "prod"))
    assert [d.env for d in store.deployments_of_digest(svc.registry.get("bot@1").digest)] == [
        "dev",
        "qa",
        "prod",
    ]
    with pytest.raises(
        UnknownEnvironmentError, match="'staging': not on the promotion path dev -> qa -> prod"
    ):
        svc.promote("bot@1", "staging")


@pytest.mark.parametrize("envs", [[], ["dev", "dev"], ["Dev"], ["1st"], ["a b"]])
def test_invalid_paths_are_refused(store: SqlStore, envs: list[str]) -> None:
    with pytest.raises(InputError):
        Deployments(store).set_path(envs)
    assert Deployments(store).path().envs == DEFAULT_PATH


def test_gate_settings_are_kept_per_env_in_the_store(store: SqlStore) -> None:
    svc = Deployments(store, gates=[PreviousEnvGate(), EvalGate()])
    svc.set_gate_config(
        GateConfig("production", {"eval": {"min_pass_rate": 0.95}}, ("previous-env",))
    )
    fresh = Deployments(store, gates=[PreviousEnvGate(), EvalGate()])
    assert fresh.gate_config("production") == GateConfig(
        "production", {"eval": {"min_pass_rate": 0.95}}, ("previous-env",)
    )
    assert fresh.gate_config("staging") == GateConfig("staging")
    with pytest.raises(UnknownEnvironmentError):
        fresh.set_gate_config(GateConfig("qa"))
    # Changing the path keeps the settings of the envs that stay on it.
    fresh.set_path(["dev", "production"])
    assert fresh.gate_config("production").disabled == ("previous-env",)


def test_disabled_gate_is_skipped(store: SqlStore) -> None:
    svc = _registered(store, 1)
    svc.set_gate_config(GateConfig("production", disabled=("previous-env",)))
    result = svc.promote("bot@1", "production")
    assert result.gates == ()
    assert result.deployment.forced is False


# -- promote ---------------------------------------------------------------------------------


def test_promote_through_dev_staging_production(store: SqlStore) -> None:
    svc = _registered(store, 1)
    first = svc.promote("bot@1", "dev")
    assert first.deployment.action is Action.DEPLOY
    assert [(g.name, g.passed) for g in first.gates] == [("previous-env", True)]
    second = svc.promote("bot@dev", "staging")
    assert second.deployment.action is Action.PROMOTE
    third = svc.promote("bot@staging", "production", "alice")
    d = third.deployment
    assert (d.env, d.agent_version, d.seq, d.previous_id, d.actor) == (
        "production",
        1,
        1,
        None,
        "alice",
    )
    assert d.policy_digest is None and d.health is Health.UNKNOWN
    assert Registry(store).resolve("bot@production").deployment_id == d.id


def test_production_without_staging_is_blocked_by_the_previous_env_gate(store: SqlStore) -> None:
    svc = _registered(store, 1)
    svc.promote("bot@1", "dev")
    before = row_counts(store)
    with pytest.raises(GateBlocked) as info:
        svc.promote("bot@1", "production")
    assert info.value.failures == [("previous-env", "bot@1 was never deployed in 'staging'")]
    assert "gate 'previous-env'" in str(info.value) and "never deployed in 'staging'" in str(
        info.value
    )
    assert info.value.exit_code == 1
    assert row_counts(store) == before


def test_a_version_marked_bad_in_the_previous_env_is_blocked(store: SqlStore) -> None:
    svc = _registered(store, 1)
    svc.promote("bot@1", "dev")
    svc.mark("bot", "dev", Health.BAD)
    with pytest.raises(GateBlocked, match="marked bad in 'dev'"):
        svc.promote("bot@1", "staging")


def test_force_without_reason_is_refused(store: SqlStore) -> None:
    svc = _registered(store, 1)
    before = row_counts(store)
    with pytest.raises(InputError, match="--force needs --reason"):
        svc.promote("bot@1", "production", force=True)
    with pytest.raises(InputError):
        svc.promote("bot@1", "production", force=True, reason="   ")
    assert row_counts(store) == before


def test_force_with_reason_is_recorded_in_history_and_audit(store: SqlStore) -> None:
    svc = _registered(store, 1)
    result = svc.promote("bot@1", "production", "alice", force=True, reason="hotfix INC-42")
    d = result.deployment
    assert d.forced is True
    assert "hotfix INC-42" in d.reason and "previous-env" in d.reason
    (stored,) = svc.history("bot", "production")
    assert stored.forced and stored.reason == d.reason
    entry = store.audit_entries()[-1]
    assert entry.action == "deployment.promote" and entry.actor == "alice"
    assert entry.payload["forced"] is True and "hotfix INC-42" in entry.payload["reason"]
    assert entry.payload["deployment"] == d.id


def test_force_when_gates_pass_is_not_marked_forced(store: SqlStore) -> None:
    svc = _registered(store, 1)
    d = svc.promote("bot@1", "dev", force=True, reason="just because").deployment
    assert d.forced is False and d.reason == "just because"


# -- pluggable gates -------------------------------------------------------------------------


class FailingGate:
    name = "evals"

    def check(self, ctx: GateContext) -> GateResult:
        return GateResult(
            self.name,
            False,
            f"pass rate 0.80 < {ctx.settings.get('evals', {}).get('min', 0.9)} for {ctx.candidate.ref}",
        )


class RaisingGate:
    name = "flaky"

    def check(self, ctx: GateContext) -> GateResult:
        raise RuntimeError("monitor unreachable")


class RecordingGate:
    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[GateContext] = []

    def check(self, ctx: GateContext) -> GateResult:
        self.seen.append(ctx)
        return GateResult(self.name, True, "ok")


def test_custom_failing_gate_blocks_with_its_name_and_reason(store: SqlStore) -> None:
    _registered(store, 1)
    svc = Deployments(store, gates=[PreviousEnvGate(), FailingGate()])
    svc.set_gate_config(GateConfig("dev", {"evals": {"min": 0.95}}))
    with pytest.raises(GateBlocked) as info:
        svc.promote("bot@1", "dev")
    assert info.value.failures == [("evals", "pass rate 0.80 < 0.95 for bot@1")]
    assert store.history("bot", "dev") == []


def test_a_gate_that_raises_blocks_instead_of_crashing(store: SqlStore) -> None:
    _registered(store, 1)
    svc = Deployments(store, gates=[RaisingGate()])
    with pytest.raises(GateBlocked) as info:
        svc.promote("bot@1", "dev")
    assert info.value.failures == [("flaky", "gate error: RuntimeError: monitor unreachable")]


def test_gates_see_candidate_env_previous_env_and_settings(store: SqlStore) -> None:
    _registered(store, 1)
    gate = RecordingGate()
    svc = Deployments(store, gates=[gate])
    svc.set_gate_config(GateConfig("staging", {"recorder": {"k": 1}}))
    svc.promote("bot@1", "staging")
    (ctx,) = gate.seen
    assert (ctx.candidate.ref, ctx.env, ctx.previous_env) == ("bot@1", "staging", "dev")
    assert ctx.settings == {"recorder": {"k": 1}}


# -- rollback --------------------------------------------------------------------------------


def test_rollback_goes_to_the_previous_known_good_skipping_bad(store: SqlStore) -> None:
    svc = _registered(store, 3)
    svc.promote("bot@1", "dev")
    svc.promote("bot@2", "dev")
    svc.mark("bot", "dev", Health.BAD)  # bot@2 is bad
    svc.promote("bot@3", "dev")
    d = svc.rollback("bot", "dev", "bob")
    assert (d.action, d.agent_version, d.seq, d.actor) == (Action.ROLLBACK, 1, 4, "bob")
    history = svc.history("bot", "dev")
    assert [h.agent_version for h in history] == [1, 2, 3, 1]
    assert history[2].health is Health.BAD  # the rolled-back deployment is marked bad
    assert history[3].previous_id == history[2].id
    assert Registry(store).get("bot@dev").version == 1


def test_rollback_to_a_given_reference(store: SqlStore) -> None:
    svc = _registered(store, 3)
    for ref in ("bot@1", "bot@2", "bot@3"):
        svc.promote(ref, "dev")
    d = svc.rollback("bot", "dev", to_ref="bot@2", reason="INC-7")
    assert (d.agent_version, d.reason) == (2, "INC-7")
    entry = store.audit_entries()[-2]  # the rollback, then the mark of the old head
    assert entry.action == "deployment.rollback" and entry.payload["reason"] == "INC-7"
    assert store.audit_entries()[-1].payload == {
        "deployment": svc.history("bot", "dev")[2].id,
        "health": "bad",
        "by": "rollback",
    }


def test_rollback_to_another_agents_version_is_refused(store: SqlStore) -> None:
    svc = _registered(store, 1)
    Registry(store).register_agent(make_spec("other"))
    svc.promote("bot@1", "dev")
    with pytest.raises(UnresolvedReferenceError, match="is not a version of 'bot'"):
        svc.rollback("bot", "dev", to_ref="other@1")


def test_rollback_with_nothing_to_go_back_to(store: SqlStore) -> None:
    svc = _registered(store, 1)
    with pytest.raises(UnresolvedReferenceError, match="nothing is deployed there"):
        svc.rollback("bot", "dev")
    svc.promote("bot@1", "dev")
    with pytest.raises(UnresolvedReferenceError, match="no earlier known-good deployment"):
        svc.rollback("bot", "dev")


# -- history, at, mark -----------------------------------------------------------------------


def test_history_is_linear_per_env(store: SqlStore) -> None:
    svc = _registered(store, 2)
    svc.promote("bot@1", "dev")
    svc.promote("bot@2", "dev")
    svc.promote("bot@1", "staging")
    dev = svc.history("bot", "dev")
    assert [(d.seq, d.agent_version) for d in dev] == [(1, 1), (2, 2)]
    assert dev[0].previous_id is None and dev[1].previous_id == dev[0].id
    assert [d.seq for d in svc.history("bot", "staging")] == [1]
    assert svc.history("bot", "production") == []
    with pytest.raises(UnknownEnvironmentError):
        svc.history("bot", "qa")


def test_at_before_between_and_after_deployments(store: SqlStore) -> None:
    svc = _registered(store, 2)
    d1 = svc.promote("bot@1", "dev").deployment
    d2 = svc.promote("bot@2", "dev").deployment
    stored1, stored2 = svc.history("bot", "dev")
    assert stored2.at > stored1.at
    assert svc.at("bot", "dev", stored1.at - timedelta(seconds=1)) is None
    between = svc.at("bot", "dev", stored2.at - timedelta(microseconds=1))
    assert between is not None and between.id == d1.id
    exactly = svc.at("bot", "dev", stored1.at)
    assert exactly is not None and exactly.id == d1.id
    after = svc.at("bot", "dev", datetime.now(UTC) + timedelta(days=1))
    assert after is not None and after.id == d2.id
    assert svc.at("bot", "staging", datetime.now(UTC)) is None


def test_at_accepts_other_timezones(store: SqlStore) -> None:
    svc = _registered(store, 1)
    d1 = svc.promote("bot@1", "dev").deployment
    (stored,) = svc.history("bot", "dev")
    plus_two = stored.at.astimezone(timezone(timedelta(hours=2)))
    found = svc.at("bot", "dev", plus_two)
    assert found is not None and found.id == d1.id
    assert svc.at("bot", "dev", plus_two - timedelta(seconds=1)) is None


def test_mark_good_and_bad(store: SqlStore) -> None:
    svc = _registered(store, 2)
    first = svc.promote("bot@1", "dev").deployment
    svc.promote("bot@2", "dev")
    assert svc.mark("bot", "dev", Health.GOOD, "carol").health is Health.GOOD
    older = svc.mark("bot", "dev", Health.BAD, deployment_id=first.id)
    assert older.id == first.id and older.health is Health.BAD
    assert [d.health for d in svc.history("bot", "dev")] == [Health.BAD, Health.GOOD]
    entry = store.audit_entries()[-1]
    assert entry.action == "deployment.mark" and entry.payload == {
        "deployment": first.id,
        "health": "bad",
    }
    with pytest.raises(UnresolvedReferenceError, match="no such deployment"):
        svc.mark("bot", "staging", Health.GOOD)
    with pytest.raises(UnresolvedReferenceError):
        svc.mark("bot", "staging", Health.GOOD, deployment_id=first.id)  # not a staging deployment


def test_promote_unknown_reference_writes_nothing(store: SqlStore) -> None:
    svc = _registered(store, 1)
    before = row_counts(store)
    with pytest.raises(UnresolvedReferenceError):
        svc.promote("bot@7", "dev")
    assert row_counts(store) == before
