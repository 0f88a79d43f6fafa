"""A mistyped gate, gate setting, alert-rule or spec key is refused with the nearest valid
spelling, and nothing is stored (issue 18: ``evals.min_pass_rate`` was kept and never enforced).
"""

from __future__ import annotations

import pytest

from agentdeck.composition import all_gates, deployments_service
from agentdeck.core.deploy.model import GateConfig
from agentdeck.core.errors import InputError, SpecError
from agentdeck.core.policy.context import ToolCallContext
from agentdeck.core.spec.schemas import validate
from agentdeck.core.spelling import nearest, unknown
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.registry.deployments import Deployments
from agentdeck.store import SqlStore
from foundation import row_counts, spec_dict


def test_the_nearest_spelling_is_offered_and_only_when_close() -> None:
    assert nearest("evals", ["eval", "replay"]) == "eval"
    assert nearest("min_passrate", ["min_pass_rate", "must_pass"]) == "min_pass_rate"
    assert nearest("zzz", ["eval", "replay"]) is None
    assert unknown("gate", "zzz", ["eval"]) == "unknown gate 'zzz' (known: eval)"


@pytest.mark.parametrize(
    ("settings", "disabled", "words"),
    [
        ({"evals": {"min_pass_rate": 0.9}}, (), ["evals.min_pass_rate", "did you mean 'eval'"]),
        ({"eval": {"min_passrate": 0.9}}, (), ["eval.min_passrate", "'min_pass_rate'"]),
        ({"replay": {"min_agrement": 0.8}}, (), ["replay.min_agrement", "'min_agreement'"]),
        ({"policy-tests": {"min_test": 2}}, (), ["policy-tests.min_test", "'min_tests'"]),
        ({}, ("previous_env",), ["--disable previous_env", "'previous-env'"]),
        ({"eval": 0.9}, (), ["eval", "key: value"]),
    ],
)
def test_an_unknown_gate_or_setting_is_refused_and_nothing_is_stored(
    store: SqlStore, settings: dict, disabled: tuple[str, ...], words: list[str]
) -> None:
    svc = deployments_service(store)
    svc.set_gate_config(GateConfig("staging", {"eval": {"min_pass_rate": 0.5}}))
    before = row_counts(store)
    with pytest.raises(InputError) as info:
        svc.set_gate_config(GateConfig("staging", settings, disabled))
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, (word, message)
    assert row_counts(store) == before
    assert svc.gate_config("staging") == GateConfig("staging", {"eval": {"min_pass_rate": 0.5}})


def test_every_setting_a_gate_reads_is_accepted(store: SqlStore) -> None:
    svc = Deployments(store, gates=all_gates())
    settings = {
        "eval": {"min_pass_rate": 0.9, "must_pass": ["a"], "suite": "core"},
        "replay": {"min_agreement": 0.8, "runs": 5, "source_env": "production", "paths": ["."]},
        "policy-tests": {"require_policy": True, "min_tests": 1},
    }
    svc.set_gate_config(GateConfig("production", settings, ("previous-env",)))
    assert svc.gate_config("production").settings == settings


def test_deferred_gates_declare_the_same_settings_as_the_real_ones(store: SqlStore) -> None:
    deferred = {g.name: getattr(g, "settings_keys", None) for g in deployments_service(store).gates}
    real = {g.name: getattr(g, "settings_keys", None) for g in all_gates()}
    assert deferred == real
    assert all(keys is not None for keys in real.values())


def test_an_alert_rule_with_a_mistyped_key_names_the_nearest_field() -> None:
    rule = {"name": "r", "metric": "error_rate", "treshold": 0.1, "agent": "bot"}
    with pytest.raises(SpecError) as info:
        parse_alert_config({"rules": [rule]}, "alerts.yaml")
    assert str(info.value).startswith("alerts.yaml: rules[0].treshold: unknown field 'treshold'")
    assert "did you mean 'threshold'?" in str(info.value)


def test_a_spec_with_a_mistyped_key_names_the_nearest_field() -> None:
    data = spec_dict()
    data["entrypiont"] = "bot.agent:run"
    with pytest.raises(SpecError) as info:
        validate("agent", data, "agent.yaml")
    assert "agent.yaml: entrypiont: unknown field 'entrypiont'" in str(info.value)
    assert "did you mean 'entrypoint'?" in str(info.value)
    nested = spec_dict()
    nested["model"] = {**nested["model"], "parms": {}}
    with pytest.raises(SpecError) as info:
        validate("agent", nested, "agent.yaml")
    assert "model.parms: unknown field 'parms'; did you mean 'params'?" in str(info.value)


@pytest.mark.parametrize(
    ("call", "field", "guess"),
    [
        ({"tool": "t", "ags": {}}, "ags", "args"),
        ({"tool": "t", "run": {"cals": []}}, "run.cals", "calls"),
        ({"tool": "t", "agent": {"nam": "bot"}}, "agent.nam", "name"),
    ],
)
def test_a_policy_test_call_with_a_mistyped_key_names_the_nearest_one(
    call: dict, field: str, guess: str
) -> None:
    with pytest.raises(SpecError) as info:
        ToolCallContext.from_dict(call, source="policy.yaml", field_prefix="tests[0].call.")
    message = str(info.value)
    assert f"tests[0].call.{field}: unknown key" in message, message
    assert f"did you mean {guess!r}?" in message
