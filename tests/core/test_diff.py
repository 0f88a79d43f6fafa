"""The semantic diff: model, params, prompt (unified diff), tools field by field, policy, runtime."""

from __future__ import annotations

from agentdeck.core.spec.agent import parse_agent_spec
from agentdeck.core.spec.diff import ChangeKind, diff_specs, schema_changes
from agentdeck.registry.specfile import load_agent_spec
from foundation import EXAMPLE_V1, EXAMPLE_V2, make_spec, spec_dict


def _by_path(d: object) -> dict[str, object]:
    return {c.path: c for c in d.changes}  # type: ignore[attr-defined]


def test_identical_specs_have_no_changes() -> None:
    d = diff_specs(make_spec(), make_spec(), "a", "b")
    assert d.identical and d.changes == () and d.prompt_diff == ()


def test_examples_v1_to_v2() -> None:
    d = diff_specs(
        load_agent_spec(EXAMPLE_V1), load_agent_spec(EXAMPLE_V2), "support-bot@1", "support-bot@2"
    )
    changes = _by_path(d)
    temp = changes["model.params.temperature"]
    assert (temp.kind, temp.before, temp.after) == (ChangeKind.CHANGED, 0.2, 0.3)
    version = changes["tools.lookup_order.version"]
    assert (version.before, version.after) == ("1.0.0", "2.0.0")
    removed = changes["tools.lookup_order.output_schema.email"]
    assert removed.kind is ChangeKind.REMOVED and removed.detail == "field removed"
    added = changes["tools.lookup_order.output_schema.customer_email"]
    assert added.kind is ChangeKind.ADDED and added.detail == "field added (required)"
    assert changes["system_prompt"].section == "prompt"
    assert changes["metadata.ticket"].after == "SUP-142"
    # Nothing else changed: unchanged tools and fields are not reported.
    assert set(changes) == {
        "model.params.temperature",
        "system_prompt",
        "tools.lookup_order.version",
        "tools.lookup_order.output_schema.email",
        "tools.lookup_order.output_schema.customer_email",
        "metadata.ticket",
    }
    # The prompt change comes as a unified diff naming both sides.
    assert d.prompt_diff[0] == "--- support-bot@1/system_prompt"
    assert d.prompt_diff[1] == "+++ support-bot@2/system_prompt"
    assert any(line.startswith("@@") for line in d.prompt_diff)
    assert "-You are the customer-support agent of an online shop." in d.prompt_diff
    assert (
        "+You are the customer-support agent of an online shop. Be concise and friendly."
        in d.prompt_diff
    )
    assert any(line.startswith("+- Offer store credit first") for line in d.prompt_diff)


def test_model_id_and_provider_changes() -> None:
    a = make_spec()
    b = parse_agent_spec(
        spec_dict(model={"provider": "anthropic", "id": "claude-3-5-sonnet-20241022"}), "s"
    )
    changes = _by_path(diff_specs(a, b))
    assert changes["model.id"].after == "claude-3-5-sonnet-20241022"
    assert changes["model.provider"].before == "openai"
    assert changes["model.params.temperature"].kind is ChangeKind.REMOVED


def test_tools_added_and_removed() -> None:
    a = make_spec(tools=[{"name": "old"}, {"name": "kept"}])
    b = make_spec(tools=[{"name": "kept"}, {"name": "new"}])
    changes = _by_path(diff_specs(a, b))
    assert changes["tools.new"].kind is ChangeKind.ADDED
    assert changes["tools.old"].kind is ChangeKind.REMOVED
    assert "tools.kept" not in changes


def test_policy_runtime_entrypoint_and_metadata() -> None:
    a = make_spec(policy="p@1", runtime={"python": "3.11"}, metadata={"owner": "a"})
    b = make_spec(policy="p@2", runtime={"python": "3.12", "timeout_s": 5}, entrypoint="m:run")
    changes = _by_path(diff_specs(a, b))
    assert (changes["policy"].before, changes["policy"].after) == ("p@1", "p@2")
    assert changes["runtime.python"].kind is ChangeKind.CHANGED
    assert changes["runtime.timeout_s"].kind is ChangeKind.ADDED
    assert changes["metadata.owner"].kind is ChangeKind.REMOVED
    assert changes["entrypoint"].after == "m:run"
    assert _by_path(diff_specs(make_spec(), a))["policy"].kind is ChangeKind.ADDED


def test_schema_changes_field_by_field() -> None:
    a = {
        "type": "object",
        "properties": {
            "amount": {"type": "number"},
            "note": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {"type": "string"}}},
            },
        },
        "required": ["amount"],
    }
    b = {
        "type": "object",
        "properties": {
            "amount": {"type": "string", "maxLength": 9},
            "note": {"type": "string"},
            "items": {
                "type": "array",
                "items": {"type": "object", "properties": {"sku": {"type": "integer"}}},
            },
        },
        "required": ["amount", "note"],
    }
    changes = {(c.path, c.detail) for c in schema_changes("tools", "t.input_schema", a, b)}
    assert changes == {
        ("t.input_schema.amount", "type changed"),
        ("t.input_schema.amount", "constraints changed"),
        ("t.input_schema.note", "required changed"),
        ("t.input_schema.items[].sku", "type changed"),
    }


def test_schema_added_or_removed_entirely() -> None:
    assert schema_changes("tools", "x", None, {"type": "object"})[0].kind is ChangeKind.ADDED
    assert schema_changes("tools", "x", {"type": "object"}, None)[0].kind is ChangeKind.REMOVED
    assert schema_changes("tools", "x", None, None) == []


def test_diff_to_dict_is_json_ready() -> None:
    import json

    d = diff_specs(load_agent_spec(EXAMPLE_V1), load_agent_spec(EXAMPLE_V2), "v1", "v2")
    data = json.loads(json.dumps(d.to_dict()))
    assert data["identical"] is False
    assert {
        "section": "model",
        "path": "model.params.temperature",
        "kind": "changed",
        "before": 0.2,
        "after": 0.3,
        "detail": "",
    } in data["changes"]
    assert data["prompt_diff"] == list(d.prompt_diff)
