"""The ``canary.shadow`` section of an env's gates: defaults, values, and one-line refusals
naming the field (an unknown key with the nearest known one)."""

from __future__ import annotations

import pytest

from agentdeck.core.deploy.canary import ShadowConfig, canary_config
from agentdeck.core.errors import SpecError


def test_the_shadow_section_defaults_and_values() -> None:
    assert canary_config(None).shadow == ShadowConfig(100.0, 20, ())
    cfg = canary_config({"shadow": {"sample": 5, "max_per_pass": 3, "live_tools": ["lookup"]}})
    assert cfg.shadow == ShadowConfig(5.0, 3, ("lookup",))
    assert cfg.to_dict()["shadow"] == {"sample": 5.0, "max_per_pass": 3, "live_tools": ["lookup"]}


@pytest.mark.parametrize(
    ("shadow", "field", "words"),
    [
        ({"sampel": 5}, "shadow.sampel", "did you mean 'sample'"),
        ({"sample": 0}, "shadow.sample", "from 0.01 to 100"),
        ({"max_per_pass": 1.5}, "shadow.max_per_pass", "an integer"),
        ({"live_tools": "lookup"}, "shadow.live_tools", "list of tool names"),
        ([1], "shadow", "must be a mapping"),
    ],
)
def test_a_bad_shadow_section_is_refused_naming_the_field(
    shadow: object, field: str, words: str
) -> None:
    with pytest.raises(SpecError) as info:
        canary_config({"shadow": shadow})
    assert field in str(info.value) and words in str(info.value)
