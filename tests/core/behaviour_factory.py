"""Small builders of runs and spans for the behaviour-monitoring unit tests."""

from __future__ import annotations

import itertools
from typing import Any

from agentdeck.core.behaviour.run_view import RunView
from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ToolSpec
from agentdeck.core.trace.model import (
    LinkKind,
    Run,
    Span,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)

TRACE = "ab" * 16
MODEL = "gpt-4o-2024-08-06"
_ids = itertools.count(1)

SEARCH_SCHEMA = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
SPEC = AgentSpec(
    name="bot",
    model=ModelSpec("openai", MODEL),
    tools=(
        ToolSpec(
            "lookup",
            input_schema={
                "type": "object",
                "properties": {"id": {"type": "integer"}},
                "required": ["id"],
            },
            output_schema={
                "type": "object",
                "properties": {"name": {"type": "string"}},
                "required": ["name"],
            },
        ),
        ToolSpec("search", input_schema=SEARCH_SCHEMA),
    ),
)
OFFERED = [
    {"name": t.name, "description": "", "input_schema": dict(t.input_schema or {})}
    for t in SPEC.tools
]


def sid() -> str:
    return f"{next(_ids):016x}"


def tool(
    name: str,
    args: Any,
    result: Any = None,
    *,
    seq: int,
    valid: bool | None = True,
    error: bool = False,
    span_id: str | None = None,
) -> Span:
    attrs: dict[str, Any] = {"tool.name": name}
    if valid is not None:
        attrs["tool.args_valid"] = valid
    return Span(
        TRACE,
        span_id or sid(),
        None,
        name,
        SpanKind.TOOL,
        1000 * seq,
        1000 * seq + 500_000,
        seq=seq,
        status=SpanStatus.ERROR if error else SpanStatus.OK,
        error="boom" if error else None,
        inputs={"args": args},
        outputs=None if error else {"result": result},
        attributes=attrs,
    )


def llm(
    *,
    seq: int,
    messages: list[Any] | None = None,
    response_model: str = MODEL,
    tools: list[Any] | None = None,
    tokens: int = 100,
) -> Span:
    return Span(
        TRACE,
        sid(),
        None,
        "chat",
        SpanKind.LLM,
        1000 * seq,
        1000 * seq + 1,
        seq=seq,
        status=SpanStatus.OK,
        inputs={
            "messages": messages or [{"role": "user", "content": "hi"}],
            "tools": OFFERED if tools is None else tools,
        },
        outputs={"message": {"role": "assistant", "content": "ok"}},
        attributes={"llm.model": MODEL, "llm.response_model": response_model},
        usage=TokenUsage(tokens - 10, 10),
    )


def policy(effect: str, governs: str, *, seq: int, message: str = "no") -> Span:
    return Span(
        TRACE,
        sid(),
        None,
        "policy",
        SpanKind.POLICY,
        1000 * seq,
        1000 * seq + 1,
        seq=seq,
        outputs={"effect": effect, "rules": ["r1"], "message": message},
        links=(SpanLink(TRACE, governs, LinkKind.POLICY),),
    )


def run(
    input: Any = "hello world",
    *,
    status: SpanStatus = SpanStatus.OK,
    output: Any = "done",
    trace_id: str = TRACE,
) -> Run:
    return Run(
        trace_id=trace_id,
        agent_name="bot",
        agent_version=1,
        agent_digest=None,
        env="dev",
        deployment_id=None,
        start_ns=0,
        end_ns=2_000_000_000,
        status=status,
        error="crash" if status is SpanStatus.ERROR else None,
        input=input,
        output=output,
    )


def view(spans: list[Span], **run_kwargs: Any) -> RunView:
    return RunView.from_run(run(**run_kwargs), spans)


def simple_view(actions: list[str], **run_kwargs: Any) -> RunView:
    """A clean run calling ``actions`` in order (lookup gets {"id": i}, search {"q": ...})."""
    spans: list[Span] = []
    seq = 0
    for i, name in enumerate(actions):
        spans.append(llm(seq=seq))
        seq += 1
        if name == "lookup":
            spans.append(tool(name, {"id": i}, {"name": f"n{i}"}, seq=seq))
        else:
            spans.append(tool(name, {"q": f"q{i}"}, {"hits": [i, i + 1]}, seq=seq))
        seq += 1
    spans.append(llm(seq=seq))
    return view(spans, **run_kwargs)
