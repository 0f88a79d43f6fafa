"""W3C Trace Context ``traceparent`` headers: format and parse (hand-rolled on purpose).

The format is one line (``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``); pulling in
``opentelemetry-api``'s propagator for it would put the OTel context machinery on the SDK path.
Parsing follows the spec's rules: lowercase hex only, version ``ff`` invalid, all-zero ids
invalid, a future version may carry extra ``-``-separated fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from agentdeck.core.trace.model import is_span_id, is_trace_id

_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")


@dataclass(frozen=True, slots=True)
class RemoteContext:
    """A span in another process, as carried by a ``traceparent`` header."""

    trace_id: str
    span_id: str
    sampled: bool = True

    def header(self) -> str:
        return format_traceparent(self.trace_id, self.span_id, self.sampled)


def format_traceparent(trace_id: str, span_id: str, sampled: bool = True) -> str:
    return f"00-{trace_id}-{span_id}-{'01' if sampled else '00'}"


def parse_traceparent(value: str) -> RemoteContext | None:
    """The context in a ``traceparent`` value, or None if it is not a valid one."""
    m = _RE.match(value.strip())
    if m is None:
        return None
    version, trace_id, span_id, flags, rest = m.groups()
    if version == "ff" or (version == "00" and rest):
        return None
    if not is_trace_id(trace_id) or not is_span_id(span_id):
        return None
    return RemoteContext(trace_id, span_id, bool(int(flags, 16) & 1))


def from_carrier(carrier: Mapping[str, str] | str) -> RemoteContext | None:
    """Read ``traceparent`` from a header mapping (any key case) or take the value itself."""
    if isinstance(carrier, str):
        return parse_traceparent(carrier)
    value = carrier.get("traceparent")
    if value is None:
        for k, v in carrier.items():
            if k.lower() == "traceparent":
                value = v
                break
    return parse_traceparent(value) if isinstance(value, str) else None
