"""The model-call contract: what an agent's entrypoint receives as ``model=``.

An agent's entrypoint (spec ``entrypoint: module:function``) is called as
``fn(input, model=client)`` where ``client`` is a :class:`ModelClient`. Keeping the contract
this small lets replay hand the agent a client that serves recorded responses, and lets evals
hand it a scripted one, without the agent's code changing.

Messages and tools are plain chat-format dicts (``{"role": ..., "content": ...}``; tools as
``{"name", "description", "input_schema"}``): they are recorded verbatim as the context window.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agentdeck.core.trace.model import TokenUsage
from agentdeck.core.types import JSON


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool call the model asked for: ``arguments`` is the decoded JSON object."""

    id: str
    name: str
    arguments: dict[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        return {"id": self.id, "name": self.name, "arguments": dict(self.arguments)}

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> ToolCall:
        return cls(
            id=str(data["id"]), name=str(data["name"]), arguments=dict(data.get("arguments") or {})
        )


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What one model call answered.

    ``message`` is the assistant message as a dict:
    ``{"role": "assistant", "content": ..., "tool_calls": [ToolCall.to_dict(), ...]}``;
    ``model`` is the model id that actually answered (it may differ from the one requested);
    ``raw`` optionally keeps the provider's own response object (never recorded).
    """

    message: dict[str, JSON]
    model: str | None = None
    usage: TokenUsage | None = None
    raw: Any = None

    @property
    def content(self) -> JSON:
        return self.message.get("content")

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(ToolCall.from_dict(c) for c in self.message.get("tool_calls") or ())

    @classmethod
    def assistant(
        cls,
        content: JSON = None,
        tool_calls: list[ToolCall] | tuple[ToolCall, ...] = (),
        *,
        model: str | None = None,
        usage: TokenUsage | None = None,
    ) -> ModelResponse:
        """Build a response from its parts (handy for scripted and replayed clients)."""
        message: dict[str, JSON] = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = [c.to_dict() for c in tool_calls]
        return cls(message=message, model=model, usage=usage)


@runtime_checkable
class ModelClient(Protocol):
    """A chat model: given the context window, offered tools and params, one response."""

    def complete(
        self, messages: list[dict[str, JSON]], tools: list[dict[str, JSON]], params: dict[str, JSON]
    ) -> ModelResponse: ...
