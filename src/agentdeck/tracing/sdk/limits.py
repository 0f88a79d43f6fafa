"""Span limits on the SDK side, like OpenTelemetry's ``SpanLimits``: no single value or span may
grow past what a destination accepts, so one oversize tool result cannot block delivery.

- A string longer than ``max_value_chars`` is cut to that length and ends with a marker
  ``…[agentdeck: truncated, N chars]`` giving its original length.
- A span (or run) whose payloads still serialize past ``max_span_bytes`` has its largest
  payload fields (``inputs``, ``outputs``, ``attributes`` values / ``input``, ``output``)
  replaced by ``{"agentdeck.truncated": true, "original_bytes": N, "preview": "..."}``.
- Either way the span's attributes gain ``agentdeck.truncated``: the names of the fields cut.

Runs only in the exporter's drain thread. The check is one ``orjson.dumps`` of the span's
payloads (payloads that serialize within ``max_value_chars`` cannot hold a longer string), in
which values captured as JSON bytes (:class:`~agentdeck.core.trace.raw_json.Frozen`) are measured by
their length, not parsed; so a span within the limits is not walked. A span past them is
parsed (:func:`~agentdeck.core.trace.raw_json.thaw_span`) and then cut.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import orjson

from agentdeck.core.trace.model import JSON, Run, Span
from agentdeck.core.trace.raw_json import fragment, thaw_run, thaw_span

TRUNCATED_ATTR = "agentdeck.truncated"
_PREVIEW_CHARS = 256


@dataclass(frozen=True, slots=True)
class SpanLimits:
    """Per-value and per-span size limits (``agentdeck.init(limits=...)``)."""

    max_value_chars: int = 128 * 1024
    max_span_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        if self.max_value_chars < 64 or self.max_span_bytes < 1024:
            raise ValueError("SpanLimits: max_value_chars >= 64 and max_span_bytes >= 1024")

    def harder(self, factor: int = 16) -> SpanLimits:
        """Limits ``factor`` times tighter (for a single span a destination still refuses)."""
        return SpanLimits(
            max(64, self.max_value_chars // factor), max(1024, self.max_span_bytes // factor)
        )


def marker(original_chars: int) -> str:
    return f"…[agentdeck: truncated, {original_chars} chars]"


def _size(value: Any) -> int:
    try:
        return len(orjson.dumps(value, default=fragment, option=orjson.OPT_NON_STR_KEYS))
    except TypeError:
        return len(repr(value))


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return value[:limit] + marker(len(value))
    if isinstance(value, dict):
        return {k: _cut_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cut_strings(v, limit) for v in value]
    return value


def _placeholder(value: Any, size: int) -> dict[str, JSON]:
    text = value if isinstance(value, str) else orjson.dumps(value).decode(errors="replace")
    return {TRUNCATED_ATTR: True, "original_bytes": size, "preview": text[:_PREVIEW_CHARS]}


def _limit_fields(
    fields: dict[str, Any], limits: SpanLimits
) -> tuple[dict[str, Any], list[str]] | None:
    """The fields within ``limits`` and the names cut; None if nothing needed cutting."""
    sizes = {name: _size(v) for name, v in fields.items()}
    cut: list[str] = []
    out = dict(fields)
    for name, size in sizes.items():
        if size > limits.max_value_chars:
            new = _cut_strings(out[name], limits.max_value_chars)
            if new != out[name]:
                out[name] = new
                sizes[name] = _size(new)
                cut.append(name)
    # Still too big as a whole: replace the largest fields, biggest first.
    for name in sorted(sizes, key=sizes.__getitem__, reverse=True):
        if sum(sizes.values()) <= limits.max_span_bytes:
            break
        if sizes[name] <= _PREVIEW_CHARS * 2:
            break
        out[name] = _placeholder(out[name], sizes[name])
        sizes[name] = _size(out[name])
        if name not in cut:
            cut.append(name)
    return (out, cut) if cut else None


def _attr_fields(attributes: dict[str, JSON]) -> dict[str, Any]:
    return {f"attributes.{k}": v for k, v in attributes.items()}


def _fits(limits: SpanLimits, *payloads: Any) -> bool:
    return _size(payloads) <= min(limits.max_value_chars, limits.max_span_bytes)


def _limited(
    values: dict[str, Any], attributes: dict[str, JSON], limits: SpanLimits
) -> dict[str, Any] | None:
    """The fields to replace so that ``values`` and ``attributes`` fit ``limits``: the cut
    values, and ``attributes`` with :data:`TRUNCATED_ATTR` naming what was cut (None: nothing)."""
    fields = {**values, **_attr_fields(attributes)}
    result = _limit_fields(fields, limits)
    if result is None:
        return None
    out, cut = result
    attrs = {k[len("attributes.") :]: v for k, v in out.items() if k.startswith("attributes.")}
    attrs[TRUNCATED_ATTR] = list(cut)
    return {**{k: out[k] for k in values}, "attributes": attrs}


def limit_span(span: Span, limits: SpanLimits) -> Span:
    """``span`` within ``limits`` (the same object when it already is)."""
    if _fits(limits, span.inputs, span.outputs, span.attributes):
        return span
    parsed = thaw_span(span)
    values = {"inputs": parsed.inputs, "outputs": parsed.outputs}
    changes = _limited(values, parsed.attributes, limits)
    return span if changes is None else dataclasses.replace(span, **changes)


def limit_run(run: Run, limits: SpanLimits) -> Run:
    """``run`` within ``limits`` (the same object when it already is)."""
    if _fits(limits, run.input, run.output, run.attributes):
        return run
    parsed = thaw_run(run)
    changes = _limited({"input": parsed.input, "output": parsed.output}, parsed.attributes, limits)
    return run if changes is None else dataclasses.replace(run, **changes)
