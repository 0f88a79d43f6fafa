"""Tool-argument validation against pinned input schemas, compiled once and cached.

``fastjsonschema`` compiles a JSON Schema to Python code (~3 us a check against ~47 us for
``jsonschema``); compiling costs milliseconds, so validators are cached by the tool's digest
(its canonical definition) and each agent digest's tool table is built once. Validation never
fills in defaults (the recorded args are what the tool received).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from agentdeck.core.errors import InputError
from agentdeck.core.spec.agent import ResolvedAgent, ToolSpec
from agentdeck.core.spec.canonical import digest

log = logging.getLogger("agentdeck.tracing")

Validator = Callable[[Any], Any]


class ToolArgumentsInvalid(InputError):
    """A tool was called with arguments its pinned input schema rejects (``invalid_args="raise"``).

    The tool did not run. ``errors`` lists what the schema rejected (``data.city must be string``).
    """

    def __init__(self, tool: str, errors: list[str]) -> None:
        self.tool = tool
        self.errors = errors
        super().__init__(f"tool {tool!r}: invalid arguments: {'; '.join(errors)}")


@dataclass(frozen=True, slots=True)
class ToolEntry:
    """A tool as the running agent pins it: its spec and compiled input validator."""

    spec: ToolSpec | None
    version: str | None
    validator: Validator | None


_lock = threading.Lock()
_validators: dict[str, Validator | None] = {}
_agent_tools: dict[str, dict[str, ToolEntry]] = {}


def compiled(key: str, schema: Mapping[str, Any]) -> Validator | None:
    """The validator for ``schema``, compiled once per ``key`` (a digest); None if it won't compile."""
    v = _validators.get(key, _MISSING)
    if v is not _MISSING:
        return v
    try:
        fn: Validator | None = fastjsonschema.compile(dict(schema), use_default=False)
    except Exception as exc:  # a malformed schema must not break the agent
        log.warning("agentdeck: input schema %s does not compile: %s", key[:19], exc)
        fn = None
    with _lock:
        _validators[key] = fn
    return fn


_MISSING: Any = object()


def validator_for_schema(schema: Mapping[str, Any]) -> Validator | None:
    """A validator for a schema given in code (``@tool(input_schema=...)``)."""
    return compiled(digest(dict(schema)), schema)


def tools_for(agent: ResolvedAgent) -> dict[str, ToolEntry]:
    """Name -> pinned :class:`ToolEntry` for an agent version (built once per agent digest)."""
    table = _agent_tools.get(agent.digest)
    if table is not None:
        return table
    table = {}
    for t in agent.spec.tools:
        v = compiled(t.digest, t.input_schema) if t.input_schema is not None else None
        table[t.name] = ToolEntry(spec=t, version=t.version, validator=v)
    with _lock:
        _agent_tools[agent.digest] = table
    return table


def check(validator: Validator, args: Any) -> list[str] | None:
    """None if ``args`` is valid, else the schema's complaint(s)."""
    try:
        validator(args)
        return None
    except fastjsonschema.JsonSchemaValueException as exc:
        return [str(exc.message)]
    except Exception as exc:  # e.g. a value the generated code cannot handle
        return [f"{type(exc).__name__}: {exc}"]
