"""An earlier call's result as policy rules see it (``run.calls[i].result``).

The result is captured on the caller's thread when the call ends (the same capture as the
span's, so later changes by the agent are not seen). What rules read is made from it only
when a rule reads it, once per call: decoded to JSON, **bounded** (a result larger than
:data:`MAX_POLICY_RESULT_BYTES` serialized is replaced by ``{"truncated": true, "bytes": n}``)
and **redacted** by the same redactor as the exported spans (``agentdeck.init(redact=...)``),
so a rule never sees a secret the trace would not show. A result that cannot be made
(a redactor failure, say) reads as ``"[REDACTED:error]"``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from agentdeck.core.policy.context import Deferred
from agentdeck.core.trace.raw_json import Frozen

__all__ = ["MAX_POLICY_RESULT_BYTES", "policy_result"]

MAX_POLICY_RESULT_BYTES = 64 * 1024
"""Serialized size above which rules see a truncation marker instead of the result."""

ValueRedactor = Callable[[Any], Any]


def _view(raw: Any, redact: ValueRedactor | None) -> Any:
    try:
        data = raw.data if type(raw) is Frozen else orjson.dumps(raw)
        if len(data) > MAX_POLICY_RESULT_BYTES:
            return {"truncated": True, "bytes": len(data)}
        value = orjson.loads(data)
        return redact(value) if redact is not None else value
    except Exception:  # never raise into the agent: rules see a mask, not the value
        return "[REDACTED:error]"


def policy_result(raw: Any, redact: ValueRedactor | None) -> Deferred:
    """The policy view of a captured result, computed on first read."""
    return Deferred(lambda: _view(raw, redact))
