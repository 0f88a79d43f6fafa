"""The published JSON Schemas of agentdeck's file formats, and validation with precise errors."""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from agentdeck.core.errors import SpecError
from agentdeck.core.spelling import unknown

if TYPE_CHECKING:  # imported when a file is validated: it costs ~50 ms at start-up
    import jsonschema


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``<name>.schema.json`` shipped in ``agentdeck/schemas``."""
    from importlib import resources  # (with tempfile and shutil: not at start-up)

    text = resources.files("agentdeck.schemas").joinpath(f"{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def field_path(path: Any) -> str:
    """``tools[1].input_schema`` from a jsonschema error path."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validate(name: str, data: Any, source: str) -> None:
    """Raise :class:`SpecError` naming ``source`` and the first failing field."""
    validator = _validator(name)
    errors = sorted(
        validator.iter_errors(data), key=lambda e: (len(e.path), list(map(str, e.path)))
    )
    if not errors:
        return
    err = errors[0]
    where = field_path(err.absolute_path) or None
    reason = err.message
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list((err.schema.get("properties") or {}) if isinstance(err.schema, dict) else ())
        extra = sorted(str(k) for k in err.instance if k not in allowed)
        if extra and allowed:
            where = f"{where}.{extra[0]}" if where else extra[0]
            reason = unknown("field", extra[0], allowed)
        elif where is None:
            reason = f"unknown field: {err.message}"
    raise SpecError(source, where, reason)
