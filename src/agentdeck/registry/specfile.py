"""Reading spec files from disk: bounded YAML with errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec
from agentdeck.core.spec.agent import AgentSpec, parse_agent_spec
from agentdeck.core.yaml_bounded import DEFAULT_LIMITS, YamlLimits, parse_yaml_text

__all__ = [
    "load_agent_spec",
    "load_policy_spec",
    "load_yaml",
    "parse_yaml_text",
]


def load_yaml(path: Path, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """Parse a YAML file within ``limits`` (size, nesting, alias expansion: see
    :mod:`agentdeck.core.yaml_bounded`); a malformed or oversized file, or one that cannot be
    read, is a :class:`SpecError` naming it (with the line and column where known)."""
    try:
        with path.open("rb") as f:
            raw = f.read(limits.max_bytes + 1)
    except FileNotFoundError:
        raise SpecError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise SpecError(str(path), None, "is a directory, not a file") from None
    except OSError as exc:
        raise SpecError(str(path), None, exc.strerror or str(exc)) from None
    if len(raw) > limits.max_bytes:
        raise SpecError(str(path), None, f"larger than the {limits.max_bytes}-byte limit for YAML")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError(str(path), None, "not UTF-8 text") from None
    return parse_yaml_text(text, str(path), limits)


def load_agent_spec(path: Path) -> AgentSpec:
    """An agent spec file, its prompt file (``system_prompt: {file: ...}``) read relative to it."""
    data = load_yaml(path)
    base = path.parent

    def load_prompt(rel: str) -> str:
        return (base / rel).read_text("utf-8")

    return parse_agent_spec(data, str(path), load_prompt)


def load_policy_spec(path: Path) -> PolicySet:
    return parse_policy_spec(load_yaml(path), str(path))
