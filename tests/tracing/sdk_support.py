"""Shared fixtures and helpers for the tracing SDK tests (imported by tests/tracing/test_sdk_*.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentdeck.core.errors import UnresolvedReferenceError
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent, ToolSpec
from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.tracing.sdk import api as sdk

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
    "required": ["city"],
    "additionalProperties": False,
}


def make_agent(name: str = "support-bot", version: int = 3, **tool_schemas: Any) -> ResolvedAgent:
    tools = tuple(ToolSpec(n, input_schema=s, version="1.0.0") for n, s in tool_schemas.items())
    spec = AgentSpec(name=name, model=ModelSpec("openai", "gpt-4o-2024-08-06"), tools=tools)
    return ResolvedAgent(name, version, spec.digest, spec, env="production", deployment_id="dep-7")


class DictResolver:
    """A dict-backed AgentResolver that counts calls."""

    def __init__(self, agents: dict[str, ResolvedAgent]) -> None:
        self.agents = agents
        self.calls: list[str] = []

    def resolve(self, ref: str) -> ResolvedAgent:
        self.calls.append(ref)
        if ref not in self.agents:
            raise UnresolvedReferenceError(ref, "no such agent")
        return self.agents[ref]


BOT = make_agent(weather=WEATHER_SCHEMA)
HELPER = make_agent(
    "billing-bot",
    1,
    refund={
        "type": "object",
        "required": ["amount"],
        "properties": {"amount": {"type": "integer"}},
    },
)
RESOLVER = DictResolver({"support-bot@production": BOT, "billing-bot@1": HELPER})


def start(tmp_path: Path, sink: Any = None, **kw: Any) -> sdk.InMemorySink:
    sink = sink if sink is not None else sdk.InMemorySink()
    kw.setdefault("resolver", RESOLVER)
    kw.setdefault("schedule_delay", 0.02)
    sdk.init(sink=sink, spill_dir=tmp_path / "spill", **kw)
    return sink  # type: ignore[no-any-return]


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[sdk.InMemorySink]:
    """An initialised SDK writing to an InMemorySink; shut down afterwards."""
    s = start(tmp_path)
    yield s
    sdk.shutdown(timeout=5)


def spans_of(sink: sdk.InMemorySink, trace_id: str, kind: SpanKind | None = None) -> list[Span]:
    assert sdk.flush(5)
    return [s for s in sink.trace(trace_id) if kind is None or s.kind is kind]


def by_id(spans: list[Span]) -> dict[str, Span]:
    return {s.span_id: s for s in spans}
