"""Property tests of the spec digest: formatting never changes it, meaning always does.

A spec is generated as plain data, written as YAML in many ways (key order, flow or block
style, indentation, quoting, line width), read back and hashed: the digest must not move. Then
one semantic change is applied (model, a param, the prompt, a tool schema field, a tool added
or removed, the policy, runtime, metadata): the digest must move.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.spec.agent import parse_agent_spec
from agentdeck.registry.specfile import load_agent_spec, load_yaml, parse_yaml_text
from foundation import EXAMPLE_V1, EXAMPLES

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that YAML round-trips exactly (no control characters other than newline).
_ALPHABET = st.characters(
    whitelist_categories=("Lu", "Ll", "Nd", "Zs", "Po", "Sm"),
    whitelist_characters="\n-_:#'\"{}[],&*!|>%@`",
)
text = st.text(_ALPHABET, max_size=40)
ident = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: abs(f) < 1e15),
    text,
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(ident, inner, max_size=3)),
    max_leaves=8,
)
field_schema = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean"])},
    optional={"description": text, "minimum": st.integers(0, 10)},
)
object_schema = st.builds(
    lambda props, req: {
        "type": "object",
        "properties": props,
        "required": sorted(k for k in props if k in req),
    },
    st.dictionaries(ident, field_schema, min_size=1, max_size=4),
    st.sets(ident, max_size=4),
)
tool = st.fixed_dictionaries(
    {"name": ident},
    optional={
        "description": text.map(str.strip),
        "input_schema": object_schema,
        "output_schema": object_schema,
        "version": st.from_regex(r"[0-9]\.[0-9]\.[0-9]", fullmatch=True),
    },
)
spec_data = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True),
        "model": st.fixed_dictionaries(
            {
                "provider": st.sampled_from(["openai", "anthropic", "local"]),
                "id": st.from_regex(r"[a-z][a-z0-9.-]{1,20}", fullmatch=True),
            },
            optional={"params": st.dictionaries(ident, json_value, max_size=4)},
        ),
    },
    optional={
        "system_prompt": text,
        "tools": st.lists(tool, max_size=4, unique_by=lambda t: t["name"]),
        "policy": st.from_regex(r"[a-z][a-z0-9-]{0,10}@[1-9][0-9]?", fullmatch=True),
        "runtime": st.dictionaries(ident, json_value, max_size=3),
        "metadata": st.dictionaries(ident, json_value, max_size=3),
        "entrypoint": st.just("pkg.mod:run"),
    },
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    """The same data with every mapping's keys in a random order (lists keep their order)."""
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


yaml_style = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([False, True, None]),
        "indent": st.sampled_from([2, 3, 4, 8]),
        "width": st.sampled_from([40, 80, 4096]),
        "default_style": st.sampled_from([None, '"', "'"]),
        "explicit_start": st.booleans(),
        "allow_unicode": st.booleans(),
    }
)


def _digest_of_yaml(text_: str, source: str = "agent.yaml") -> str:
    return parse_agent_spec(parse_yaml_text(text_, source), source).digest


@SETTINGS
@given(data=spec_data, style=yaml_style, seed=st.integers(0, 2**32 - 1))
def test_key_order_and_yaml_formatting_never_change_the_digest(
    data: dict[str, Any], style: dict[str, Any], seed: int
) -> None:
    reference = parse_agent_spec(data, "ref").digest
    dumped = yaml.safe_dump(_shuffled(data, random.Random(seed)), sort_keys=False, **style)
    assert _digest_of_yaml(dumped) == reference


def _mutations(data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every applicable single semantic change of ``data``."""
    out: list[tuple[str, dict[str, Any]]] = []

    def change(label: str, fn: Any) -> None:
        new = copy.deepcopy(data)
        fn(new)
        out.append((label, new))

    change("model id", lambda d: d["model"].__setitem__("id", d["model"]["id"] + "-2024-01-01"))
    change(
        "model provider", lambda d: d["model"].__setitem__("provider", d["model"]["provider"] + "x")
    )
    change("param added", lambda d: d["model"].setdefault("params", {}).__setitem__("zz_new", 1))
    params = data["model"].get("params") or {}
    if params:
        key = sorted(params)[0]
        change(
            "param value", lambda d: d["model"]["params"].__setitem__(key, [params[key], "changed"])
        )
    change(
        "prompt text", lambda d: d.__setitem__("system_prompt", d.get("system_prompt", "") + "!")
    )
    tools = data.get("tools") or []
    change("tool added", lambda d: d.setdefault("tools", []).append({"name": "zz_added_tool"}))
    if tools:
        change("tool removed", lambda d: d["tools"].pop())
        if "input_schema" in tools[0]:
            field = sorted(tools[0]["input_schema"]["properties"])[0]

            def retype(d: dict[str, Any]) -> None:
                prop = d["tools"][0]["input_schema"]["properties"][field]
                prop["type"] = "array" if prop["type"] != "array" else "string"

            change("tool schema field type", retype)
            change(
                "tool schema field added",
                lambda d: d["tools"][0]["input_schema"]["properties"].__setitem__(
                    "zz_extra", {"type": "string"}
                ),
            )
        change("tool version", lambda d: d["tools"][0].__setitem__("version", "99.0.0"))
    change(
        "policy",
        lambda d: d.__setitem__(
            "policy", "other-policy@7" if d.get("policy") != "other-policy@7" else "other-policy@8"
        ),
    )
    change("runtime", lambda d: d.setdefault("runtime", {}).__setitem__("zz_timeout_s", 31))
    change("metadata", lambda d: d.setdefault("metadata", {}).__setitem__("zz_ticket", "SUP-1"))
    return out


@SETTINGS
@given(data=spec_data)
def test_any_semantic_change_changes_the_digest(data: dict[str, Any]) -> None:
    before = parse_agent_spec(data, "ref").digest
    for label, changed in _mutations(data):
        after = parse_agent_spec(changed, "changed").digest
        assert after != before, f"{label} did not change the digest"


@SETTINGS
@given(prompt=text, block=st.booleans())
def test_prompt_from_file_and_inline_have_the_same_digest(prompt: str, block: bool) -> None:
    base = {"name": "bot", "model": {"provider": "openai", "id": "m-2024-01-01"}}
    files = {"prompts/p.md": prompt}
    from_file = parse_agent_spec(
        {**base, "system_prompt": {"file": "prompts/p.md"}}, "s", files.__getitem__
    )
    style = "|" if block else None
    inline_yaml = yaml.safe_dump({**base, "system_prompt": prompt}, default_style=style)
    inline = parse_agent_spec(parse_yaml_text(inline_yaml, "s"), "s")
    assert from_file.digest == inline.digest
    assert from_file.system_prompt == prompt


def test_example_prompt_file_equals_the_same_prompt_inline(tmp_path: Path) -> None:
    data = load_yaml(EXAMPLE_V1)
    data["system_prompt"] = (EXAMPLES / "prompts" / "v1.md").read_text("utf-8")
    inline_file = tmp_path / "agent.yaml"
    inline_file.write_text(yaml.safe_dump(data, sort_keys=True, default_flow_style=True))
    assert load_agent_spec(inline_file).digest == load_agent_spec(EXAMPLE_V1).digest


def test_prompt_file_with_crlf_line_endings_has_the_same_digest(tmp_path: Path) -> None:
    prompt = (EXAMPLES / "prompts" / "v1.md").read_text("utf-8")
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "v1.md").write_bytes(prompt.replace("\n", "\r\n").encode())
    (tmp_path / "agent.yaml").write_text(EXAMPLE_V1.read_text("utf-8"))
    assert load_agent_spec(tmp_path / "agent.yaml").digest == load_agent_spec(EXAMPLE_V1).digest
