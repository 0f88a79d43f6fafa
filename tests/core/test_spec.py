"""AgentSpec: JSON Schema validation with file and field in the message, normalization, lint."""

from __future__ import annotations

from typing import Any

import pytest

from agentdeck.core.errors import InputError, SpecError
from agentdeck.core.spec.agent import (
    AgentSpec,
    is_pinned_model_id,
    lint_agent_spec,
    parse_agent_spec,
)
from agentdeck.core.spec.canonical import canonical_json, digest
from agentdeck.registry.specfile import load_agent_spec
from foundation import EXAMPLE_V1, make_spec, spec_dict


def _error(data: Any, source: str = "agents/bot.yaml") -> SpecError:
    with pytest.raises(SpecError) as info:
        parse_agent_spec(data, source)
    return info.value


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (spec_dict(model={"provider": "openai", "id": 4}), "model.id", "not of type 'string'"),
        (spec_dict(model={"provider": "openai"}), "model", "'id' is a required property"),
        (spec_dict(model=None), None, "'model' is a required property"),
        (spec_dict(name="Bad Name"), "name", "does not match"),
        (
            spec_dict(tools=[{"name": "t", "input_schema": "nope"}]),
            "tools[0].input_schema",
            "not of type 'object'",
        ),
        (spec_dict(tools=[{"name": "t", "colour": "red"}]), "tools[0].colour", "colour"),
        (spec_dict(policy="refunds"), "policy", "does not match"),
        (spec_dict(entrypoint="no colon"), "entrypoint", "does not match"),
        (spec_dict(temperature=0.3), "temperature", "unknown field"),
    ],
)
def test_schema_error_names_file_and_field(
    data: dict[str, Any], field: str | None, words: str
) -> None:
    err = _error(data)
    assert err.source == "agents/bot.yaml"
    assert err.field == field
    assert str(err).startswith("agents/bot.yaml: " + (f"{field}: " if field else ""))
    assert words in str(err)
    assert isinstance(err, InputError) and err.exit_code == 2


def test_top_level_not_a_mapping_is_refused_with_the_file() -> None:
    err = _error(["a", "list"], "x.yaml")
    assert str(err) == "x.yaml: expected a mapping at the top level, got list"


def test_duplicate_tool_names_are_refused_with_the_field() -> None:
    err = _error(spec_dict(tools=[{"name": "t"}, {"name": "t"}]))
    assert err.field == "tools[1].name"
    assert "duplicate tool name 't'" in str(err)


def test_prompt_file_needs_a_loader() -> None:
    err = _error(spec_dict(system_prompt={"file": "p.md"}))
    assert err.field == "system_prompt.file"


def test_unreadable_prompt_file_names_the_field(tmp_path: Any) -> None:
    spec_file = tmp_path / "agent.yaml"
    spec_file.write_text(
        "name: bot\nmodel: {provider: openai, id: m-2024-01-01}\nsystem_prompt: {file: missing.md}\n"
    )
    with pytest.raises(SpecError) as info:
        load_agent_spec(spec_file)
    assert info.value.source == str(spec_file)
    assert info.value.field == "system_prompt.file"
    assert "missing.md" in str(info.value)


def test_normalization_makes_defaults_explicit() -> None:
    spec = parse_agent_spec({"name": "bot", "model": {"provider": "openai", "id": "m"}}, "s")
    assert spec.to_dict() == {
        "name": "bot",
        "model": {"provider": "openai", "id": "m", "params": {}},
        "system_prompt": "",
        "tools": [],
        "runtime": {},
        "metadata": {},
    }


def test_normalization_orders_tools_by_name_and_omits_absent_fields() -> None:
    spec = parse_agent_spec(
        spec_dict(tools=[{"name": "zeta"}, {"name": "alpha", "description": "  hi \r\n"}]), "s"
    )
    assert [t["name"] for t in spec.to_dict()["tools"]] == ["alpha", "zeta"]
    assert spec.to_dict()["tools"][0] == {"name": "alpha", "description": "hi"}
    assert "input_schema" not in spec.to_dict()["tools"][1]


def test_normalization_unifies_prompt_line_endings() -> None:
    a = make_spec(prompt="line one\r\nline two\rline three\n")
    b = make_spec(prompt="line one\nline two\nline three\n")
    assert a.system_prompt == b.system_prompt
    assert a.digest == b.digest


def test_digest_is_sha256_of_rfc8785_canonical_json() -> None:
    import hashlib

    spec = make_spec()
    expected = "sha256:" + hashlib.sha256(canonical_json(spec.to_dict())).hexdigest()
    assert spec.digest == expected == digest(spec.to_dict())
    # RFC 8785: sorted keys, no whitespace.
    assert canonical_json({"b": 1, "a": [1.0, "x"]}) == b'{"a":[1,"x"],"b":1}'


def test_from_dict_round_trips_the_normalized_spec() -> None:
    spec = load_agent_spec(EXAMPLE_V1)
    again = AgentSpec.from_dict(spec.to_dict())
    assert again == spec
    assert again.digest == spec.digest


def test_policy_pin_is_split_into_name_and_version() -> None:
    spec = make_spec(policy="support-refunds@3")
    assert (spec.policy_name, spec.policy_version) == ("support-refunds", 3)
    assert make_spec().policy_name is None


@pytest.mark.parametrize(
    ("model_id", "pinned"),
    [
        ("gpt-4o", False),
        ("gpt-4o-latest", False),
        ("chatgpt-4o-latest", False),
        ("claude-3-5-sonnet-latest", False),
        ("gpt-4o-2024-08-06", True),
        ("claude-3-5-sonnet-20241022", True),
        ("gpt-4-0613", True),
    ],
)
def test_model_id_pinning(model_id: str, pinned: bool) -> None:
    assert is_pinned_model_id(model_id) is pinned


def test_lint_flags_unpinned_model_tool_without_schema_and_no_policy() -> None:
    spec = parse_agent_spec(
        spec_dict(model={"provider": "openai", "id": "gpt-4o"}, tools=[{"name": "bare"}]), "s"
    )
    codes = {(f.field, f.code) for f in lint_agent_spec(spec)}
    assert ("model.id", "unpinned-model") in codes
    assert ("tools[0].input_schema", "tool-without-schema") in codes
    assert ("policy", "no-policy") in codes


def test_lint_of_the_example_is_clean() -> None:
    assert lint_agent_spec(load_agent_spec(EXAMPLE_V1)) == []
