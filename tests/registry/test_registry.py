"""The registry on both backends: register, versions, the one resolver, and pinned policies."""

from __future__ import annotations

import pytest

from agentdeck.core.errors import SpecError, UnresolvedReferenceError
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.service import Registry
from agentdeck.registry.specfile import load_agent_spec
from agentdeck.store import SqlStore
from foundation import EXAMPLE_POLICY, EXAMPLE_V1, EXAMPLE_V2, make_spec, row_counts, seed_policy


def test_register_assigns_versions_and_is_idempotent(store: SqlStore) -> None:
    reg = Registry(store)
    v1, created1 = reg.register_agent(make_spec(prompt="one"), "alice")
    v2, created2 = reg.register_agent(make_spec(prompt="two"), "bob")
    again, created3 = reg.register_agent(make_spec(prompt="one"), "carol")
    assert (v1.version, created1, v2.version, created2) == (1, True, 2, True)
    assert (again.version, again.digest, created3) == (1, v1.digest, False)
    assert again.created_by == "alice"
    assert [v.version for v in reg.versions("bot")] == [1, 2]
    # Registering identical content writes nothing: two audit entries, not three.
    assert row_counts(store)["audit_log"] == 2
    assert row_counts(store)["agent_versions"] == 2


def test_stored_spec_round_trips_with_its_digest(store: SqlStore) -> None:
    seed_policy(store)
    spec = load_agent_spec(EXAMPLE_V1)
    av, _ = Registry(store).register_agent(spec)
    loaded = Registry(store).get("support-bot@1")
    assert loaded.spec == spec
    assert loaded.digest == spec.digest == av.digest
    assert loaded.spec.digest == loaded.digest


def test_versions_are_numbered_per_name(store: SqlStore) -> None:
    reg = Registry(store)
    reg.register_agent(make_spec("alpha", prompt="x"))
    reg.register_agent(make_spec("beta", prompt="x"))
    reg.register_agent(make_spec("alpha", prompt="y"))
    assert [v.version for v in reg.versions("alpha")] == [1, 2]
    assert [v.version for v in reg.versions("beta")] == [1]
    assert store.list_agent_names() == ["alpha", "beta"]


def test_versions_of_unknown_name_is_a_reference_error(store: SqlStore) -> None:
    with pytest.raises(UnresolvedReferenceError, match="nope: no agent of that name"):
        Registry(store).versions("nope")


def test_resolver_by_version_digest_prefix_latest_and_env(store: SqlStore) -> None:
    reg = Registry(store)
    v1, _ = reg.register_agent(make_spec(prompt="one"))
    v2, _ = reg.register_agent(make_spec(prompt="two"))
    assert reg.get("bot@1").digest == v1.digest
    assert reg.get("bot").version == 2  # bare name = latest
    assert reg.get(f"bot@{v1.digest[:13]}").version == 1  # sha256: + 6 hex
    assert reg.get(f"bot@{v2.digest}").version == 2
    Deployments(store).promote("bot@1", "dev")
    resolved = reg.resolve("bot@dev")
    head = store.head("bot", "dev")
    assert head is not None
    assert (resolved.version, resolved.digest, resolved.env, resolved.deployment_id) == (
        1,
        v1.digest,
        "dev",
        head.id,
    )
    plain = reg.resolve("bot@2")
    assert (plain.version, plain.env, plain.deployment_id) == (2, None, None)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("bot@9", "bot@9: no such version (latest is 1)"),
        ("ghost@1", "ghost@1: no agent of that name is registered"),
        ("ghost", "ghost: no agent of that name is registered"),
        ("bot@sha256:0000000000", "no version of this agent has that digest"),
        ("bot@staging", "nothing of 'bot' is deployed in 'staging'"),
        ("bot@qa", "'qa' is neither a version nor an environment"),
        ("bot@@", "not a reference"),
    ],
)
def test_unknown_references_say_what_is_missing(store: SqlStore, ref: str, message: str) -> None:
    Registry(store).register_agent(make_spec())
    with pytest.raises(UnresolvedReferenceError) as info:
        Registry(store).get(ref)
    assert message in str(info.value)
    assert str(info.value).startswith(ref)


def test_digest_prefix_of_another_agent_does_not_resolve(store: SqlStore) -> None:
    reg = Registry(store)
    other, _ = reg.register_agent(make_spec("other"))
    reg.register_agent(make_spec("bot"))
    with pytest.raises(UnresolvedReferenceError):
        reg.get(f"bot@{other.digest}")


def test_pinning_a_missing_policy_is_refused_and_writes_nothing(store: SqlStore) -> None:
    before = row_counts(store)
    with pytest.raises(SpecError) as info:
        Registry(store).register_agent(load_agent_spec(EXAMPLE_V1), source=str(EXAMPLE_V1))
    assert info.value.source == str(EXAMPLE_V1) and info.value.field == "policy"
    assert "support-refunds@1" in str(info.value) and "does not exist" in str(info.value)
    assert row_counts(store) == before


def test_pinning_a_missing_version_of_a_known_policy_lists_the_known_ones(store: SqlStore) -> None:
    seed_policy(store)
    with pytest.raises(SpecError, match="registered versions: 1"):
        Registry(store).register_agent(make_spec(policy=f"{EXAMPLE_POLICY}@2"))


def test_pinning_an_existing_policy_registers(store: SqlStore) -> None:
    pv = seed_policy(store)
    reg = Registry(store)
    av, created = reg.register_agent(load_agent_spec(EXAMPLE_V2))
    assert created and av.spec.policy == f"{EXAMPLE_POLICY}@1"
    policy = reg.policy_for(av.spec)
    assert policy is not None and policy.digest == pv.digest


def test_policy_versions_through_the_store(store: SqlStore) -> None:
    pv = seed_policy(store)
    again = seed_policy(store)
    assert again.version == pv.version == 1
    reg = Registry(store)
    assert reg.get_policy(f"{EXAMPLE_POLICY}@1").digest == pv.digest
    assert reg.get_policy(EXAMPLE_POLICY).version == 1
    assert reg.get_policy(f"{EXAMPLE_POLICY}@{pv.digest}").version == 1
    with pytest.raises(UnresolvedReferenceError, match="no such policy version"):
        reg.get_policy(f"{EXAMPLE_POLICY}@5")


def test_register_policy_compiles_rules_first(store: SqlStore) -> None:
    from agentdeck.core.policy.spec import parse_policy_spec

    policy = parse_policy_spec(
        {"name": "p", "rules": [{"id": "r", "when": "args.amount >", "effect": "deny"}]}, "p.yaml"
    )
    before = row_counts(store)
    with pytest.raises(SpecError) as info:
        Registry(store).register_policy(policy, source="p.yaml")
    assert info.value.source == "p.yaml" and "rules[0]" in str(info.value)
    assert row_counts(store) == before
