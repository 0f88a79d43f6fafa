"""A stored policy rebuilds without the JSON Schema pass (it was validated when registered),
and a stored row that does not rebuild still gets the schema's precise error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agentdeck.core.errors import SpecError
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec

POLICY = Path(__file__).resolve().parents[2] / "examples" / "support-bot" / "policy.yaml"


def test_a_stored_policy_rebuilds_equal_to_the_registered_one() -> None:
    registered = parse_policy_spec(yaml.safe_load(POLICY.read_text()), str(POLICY))
    rebuilt = PolicySet.from_dict(registered.to_dict())
    assert rebuilt == registered
    assert rebuilt.digest == registered.digest


def test_rebuilding_a_stored_policy_does_not_load_the_schema_validator() -> None:
    code = (
        "import sys, yaml\n"
        "from agentdeck.core.policy.spec import PolicySet\n"
        f"data = yaml.safe_load(open({str(POLICY)!r}))\n"
        "data.setdefault('tests', [])\n"
        "p = PolicySet.from_dict(data)\n"
        "print(len(p.rules), 'jsonschema' in sys.modules)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    rules, loaded = proc.stdout.split()
    assert int(rules) >= 1
    assert loaded == "False"


@pytest.mark.parametrize(
    ("stored", "field"),
    [
        ({"name": "p", "rules": [{"id": "r", "effect": "deny"}]}, "rules[0]"),  # no "when"
        ({"name": "p", "rules": [{"id": "r", "when": "true", "effect": "maybe"}]}, "effect"),
        ({"name": "p", "rules": "none"}, "rules"),
    ],
)
def test_a_stored_policy_that_does_not_rebuild_gets_the_precise_error(
    stored: dict[str, object], field: str
) -> None:
    with pytest.raises(SpecError) as info:
        PolicySet.from_dict(stored)
    assert "<stored policy>" in str(info.value) and field in str(info.value)
