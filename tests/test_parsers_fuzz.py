"""Fuzzing the file parsers: whatever the input, the only exception is a one-line InputError."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.evals.suite import parse_suite
from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.core.spec.agent import parse_agent_spec
from agentdeck.monitor.alert_rules import parse_alert_config
from agentdeck.registry.specfile import parse_yaml_text

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12)
)
json_like = st.recursive(
    scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=4), st.dictionaries(st.text(max_size=10), c, max_size=5)
    ),
    max_leaves=20,
)
# documents shaped like the real ones, with random values in the known fields
agent_like = st.fixed_dictionaries(
    {},
    optional={
        "name": json_like,
        "model": st.one_of(
            json_like, st.fixed_dictionaries({"provider": json_like, "id": json_like})
        ),
        "tools": st.one_of(
            json_like,
            st.lists(
                st.fixed_dictionaries({"name": json_like}, optional={"input_schema": json_like}),
                max_size=3,
            ),
        ),
        "policy": json_like,
        "system_prompt": json_like,
        "entrypoint": json_like,
    },
)
policy_like = st.fixed_dictionaries(
    {},
    optional={
        "name": json_like,
        "rules": st.one_of(
            json_like,
            st.lists(
                st.fixed_dictionaries({"id": json_like, "when": json_like, "effect": json_like}),
                max_size=3,
            ),
        ),
        "tests": json_like,
        "default_effect": json_like,
    },
)

PARSERS = {
    "agent": lambda d: parse_agent_spec(d, "fuzz.yaml", lambda p: "prompt"),
    "policy": lambda d: parse_policy_spec(d, "fuzz.yaml"),
    "suite": lambda d: parse_suite(d, "fuzz.yaml"),
    "alerts": lambda d: parse_alert_config(d, "fuzz.yaml"),
}


def _only_input_errors(name: str, data: Any) -> None:
    try:
        PARSERS[name](data)
    except InputError as exc:
        assert "fuzz.yaml" in str(exc) and "\n" not in str(exc).strip()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_yaml_text_gives_data_or_a_spec_error_naming_the_file(text: str) -> None:
    try:
        data = parse_yaml_text(text, "fuzz.yaml")
    except InputError as exc:
        assert str(exc).startswith("fuzz.yaml")
        return
    for name in PARSERS:
        _only_input_errors(name, data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_like, shaped=st.one_of(agent_like, policy_like))
def test_parsers_raise_only_input_errors_on_arbitrary_documents(data: Any, shaped: Any) -> None:
    for name in PARSERS:
        _only_input_errors(name, data)
        _only_input_errors(name, shaped)
