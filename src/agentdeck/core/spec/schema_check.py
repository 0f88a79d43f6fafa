"""Validate a JSON value against a JSON Schema, the compiled validator cached by digest.

Shared by per-run checks (tool arguments and responses against pinned and inferred schemas)
and eval expectations. fastjsonschema compiles a schema to Python once; a schema it cannot
compile is treated as accepting everything (the registry refuses such schemas for pinned
tools, so this only concerns inferred ones).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

from agentdeck.core.spec.canonical import digest

__all__ = ["schema_errors"]

Validator = Callable[[Any], Any]
_VALIDATORS: dict[str, Validator | None] = {}


def _validator(schema: Mapping[str, Any]) -> Validator | None:
    """The compiled validator of ``schema`` (cached by digest); ``None`` if it won't compile."""
    key = digest(schema)
    if key not in _VALIDATORS:
        if len(_VALIDATORS) > 1024:
            _VALIDATORS.clear()
        try:
            _VALIDATORS[key] = fastjsonschema.compile(dict(schema))
        except (fastjsonschema.JsonSchemaDefinitionException, TypeError, ValueError):
            _VALIDATORS[key] = None
    return _VALIDATORS[key]


def schema_errors(schema: Mapping[str, Any], value: Any) -> str | None:
    """The validation error message of ``value`` against ``schema``, or ``None`` if valid."""
    v = _validator(schema)
    if v is None:
        return None
    try:
        v(value)
    except fastjsonschema.JsonSchemaValueException as exc:
        return exc.message
    return None
