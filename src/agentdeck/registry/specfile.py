"""Reading spec files from disk: YAML with errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from agentdeck.core.errors import SpecError
from agentdeck.core.policy_spec import PolicySet, parse_policy_spec
from agentdeck.core.spec import AgentSpec, parse_agent_spec


def load_yaml(path: Path) -> Any:
    """Parse a YAML file; a syntax error becomes a :class:`SpecError` with the line and column."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise SpecError(str(path), None, "no such file") from None
    except IsADirectoryError:
        raise SpecError(str(path), None, "is a directory, not a file") from None
    except UnicodeDecodeError:
        raise SpecError(str(path), None, "not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(str(path), None, exc.strerror or str(exc)) from None
    return parse_yaml_text(text, str(path))


def parse_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise SpecError(source, where, f"malformed YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(source, None, f"malformed YAML: {exc}") from None


def load_agent_spec(path: Path) -> AgentSpec:
    """An agent spec file, its prompt file (``system_prompt: {file: ...}``) read relative to it."""
    data = load_yaml(path)
    base = path.parent

    def load_prompt(rel: str) -> str:
        return (base / rel).read_text("utf-8")

    return parse_agent_spec(data, str(path), load_prompt)


def load_policy_spec(path: Path) -> PolicySet:
    return parse_policy_spec(load_yaml(path), str(path))
