"""Captured JSON kept as bytes: :class:`Frozen`, and :func:`thaw` that parses it back.

The SDK captures a nested user value on the agent's thread at call time by serializing it
(orjson) into a :class:`Frozen`. The exporter keeps those bytes as they are on the way out: the
span limits measure them by length, the redactor scans them once (and parses only a value in
which a pattern's trigger hit), and a sink that writes JSON (the HTTP wire, the spill file)
embeds them with ``orjson.Fragment``. Only a sink that wants JSON data (dicts and lists) gets
the span :func:`thaw`-ed, once, in the exporter's send thread.

Pure: no I/O. A ``Frozen`` may appear anywhere in a span's ``inputs``, ``outputs`` and
``attributes`` (or a run's ``input``, ``output``, ``attributes``) inside dicts and lists.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from agentdeck.core.trace.model import Run, Span

__all__ = ["Frozen", "fragment", "has_frozen", "thaw", "thaw_run", "thaw_span"]


class Frozen:
    """A user value serialized at call time: its JSON bytes (valid JSON, orjson output)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"Frozen({self.data[:60]!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Frozen and other.data == self.data

    def __hash__(self) -> int:
        return hash(self.data)


def fragment(value: Any) -> Any:
    """orjson ``default=``: a :class:`Frozen` is written as its bytes, anything else refused."""
    if type(value) is Frozen:
        return orjson.Fragment(value.data)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def has_frozen(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` holds a :class:`Frozen` (in dicts and lists, 4 levels deep)."""
    t = type(value)
    if t is Frozen:
        return True
    if depth > 3:
        return False
    if t is dict:
        return any(has_frozen(v, depth + 1) for v in value.values())
    if t is list or t is tuple:
        return any(has_frozen(v, depth + 1) for v in value)
    return False


def thaw(value: Any) -> Any:
    """``value`` with every :class:`Frozen` parsed back to JSON data; containers are copied
    only where something changed (the same object when there was nothing to parse)."""
    t = type(value)
    if t is Frozen:
        return orjson.loads(value.data)
    if t is dict:
        out: dict[Any, Any] | None = None
        for k, v in value.items():
            tv = type(v)
            if tv is Frozen or tv is dict or tv is list:
                new = thaw(v)
                if new is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = new
        return value if out is None else out
    if t is list:
        items: list[Any] | None = None
        for i, v in enumerate(value):
            tv = type(v)
            if tv is Frozen or tv is dict or tv is list:
                new = thaw(v)
                if new is not v:
                    if items is None:
                        items = list(value)
                    items[i] = new
        return value if items is None else items
    return value


def thaw_span(span: Span) -> Span:
    """``span`` with its payloads as JSON data (the same object when it already was)."""
    inputs, outputs, attributes = thaw(span.inputs), thaw(span.outputs), thaw(span.attributes)
    if inputs is span.inputs and outputs is span.outputs and attributes is span.attributes:
        return span
    return dataclasses.replace(span, inputs=inputs, outputs=outputs, attributes=attributes)


def thaw_run(run: Run) -> Run:
    """``run`` with its payloads as JSON data (the same object when it already was)."""
    inp, out, attributes = thaw(run.input), thaw(run.output), thaw(run.attributes)
    if inp is run.input and out is run.output and attributes is run.attributes:
        return run
    return dataclasses.replace(run, input=inp, output=out, attributes=attributes)
