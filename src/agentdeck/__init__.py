"""agentdeck: the SDK an agent imports.

::

    import agentdeck

    agentdeck.init()                                   # embedded store, or AGENTDECK_ENDPOINT
    with agentdeck.run(agent="support-bot@production", input=question) as run:
        answer = my_agent(question, model=agentdeck.recorded_model(client))
        run.set_output(answer)

    @agentdeck.tool
    def lookup_order(order_id: str) -> dict: ...

Importing this package does nothing: every name below is loaded on first use, and until
:func:`init` the decorators and context managers are cheap pass-throughs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AgentDeckError": "agentdeck.core.errors",
    "FlushResult": "agentdeck.tracing.sdk.api",
    "InMemorySink": "agentdeck.tracing.sdk.api",
    "ModelResponse": "agentdeck.core.trace.model_call",
    "PolicyDenied": "agentdeck.core.errors",
    "SpanLimits": "agentdeck.tracing.sdk.api",
    "ToolArgumentsInvalid": "agentdeck.tracing.sdk.api",
    "ToolCall": "agentdeck.core.trace.model_call",
    "current_run": "agentdeck.tracing.sdk.api",
    "current_span": "agentdeck.tracing.sdk.api",
    "extract_traceparent": "agentdeck.tracing.sdk.api",
    "flush": "agentdeck.tracing.sdk.api",
    "handoff": "agentdeck.tracing.sdk.api",
    "init": "agentdeck.sdk_init",
    "inject_traceparent": "agentdeck.tracing.sdk.api",
    "llm": "agentdeck.tracing.sdk.api",
    "record_conversation": "agentdeck.tracing.sdk.conversation",
    "recorded_model": "agentdeck.tracing.sdk.api",
    "run": "agentdeck.tracing.sdk.api",
    "shutdown": "agentdeck.tracing.sdk.api",
    "span": "agentdeck.tracing.sdk.api",
    "stats": "agentdeck.tracing.sdk.api",
    "tool": "agentdeck.tracing.sdk.api",
}

__all__ = [
    "AgentDeckError",
    "FlushResult",
    "InMemorySink",
    "ModelResponse",
    "PolicyDenied",
    "SpanLimits",
    "ToolArgumentsInvalid",
    "ToolCall",
    "current_run",
    "current_span",
    "extract_traceparent",
    "flush",
    "handoff",
    "init",
    "inject_traceparent",
    "llm",
    "record_conversation",
    "recorded_model",
    "run",
    "shutdown",
    "span",
    "stats",
    "tool",
]

if TYPE_CHECKING:
    from agentdeck.core.errors import AgentDeckError, PolicyDenied
    from agentdeck.core.trace.model_call import ModelResponse, ToolCall
    from agentdeck.sdk_init import init
    from agentdeck.tracing.sdk.api import (
        FlushResult,
        InMemorySink,
        SpanLimits,
        ToolArgumentsInvalid,
        current_run,
        current_span,
        extract_traceparent,
        flush,
        handoff,
        inject_traceparent,
        llm,
        recorded_model,
        run,
        shutdown,
        span,
        stats,
        tool,
    )
    from agentdeck.tracing.sdk.conversation import record_conversation


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentdeck' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
