"""A recorded run as replay reads it: its model and tool calls, in the order they started.

A run's ``llm`` and ``tool`` spans, sorted by ``seq`` (the order spans started; spans of nested
agents and hand-offs included), are its **steps**. Each step keeps what replay compares (the
context window, offered tools and params of a model call; the name and args of a tool call)
and what it serves (the model's answer; the tool's result or error).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.core.types import JSON
from agentdeck.store.protocol import TraceStore
from agentdeck.tracing.analysis.queries import load_trace
from agentdeck.tracing.replay.report import Action, compact


class StepKind(StrEnum):
    LLM = "llm"
    TOOL = "tool"


def _dict(value: JSON) -> dict[str, JSON]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class RecordedStep:
    """One recorded model or tool call (``number`` is 1-based in run order)."""

    number: int
    kind: StepKind
    span: Span

    @property
    def failed(self) -> bool:
        return self.span.status is SpanStatus.ERROR

    # -- model calls -------------------------------------------------------------------------

    @property
    def messages(self) -> list[JSON]:
        return list(_dict(self.span.inputs).get("messages") or [])

    @property
    def tools(self) -> list[JSON]:
        return list(_dict(self.span.inputs).get("tools") or [])

    @property
    def params(self) -> dict[str, JSON]:
        return dict(_dict(self.span.attributes.get("llm.params")))

    def response(self) -> ModelResponse:
        """The model's recorded answer (an empty assistant message if none was recorded)."""
        message = _dict(self.span.outputs).get("message")
        if not isinstance(message, dict):
            message = {"role": "assistant", "content": None}
        model = self.span.attributes.get("llm.response_model")
        return ModelResponse(message=dict(message), model=model if isinstance(model, str) else None,
                             usage=self.span.usage)  # fmt: skip

    # -- tool calls --------------------------------------------------------------------------

    @property
    def tool(self) -> str:
        return self.span.tool_name or self.span.name

    @property
    def args(self) -> JSON:
        return _dict(self.span.inputs).get("args") or {}

    @property
    def result(self) -> JSON:
        return _dict(self.span.outputs).get("result")

    @property
    def action(self) -> Action:
        return Action(self.tool, self.args)

    def label(self) -> str:
        """``model call`` or ``tool(args)``, for reports."""
        if self.kind is StepKind.LLM:
            return f"model call ({len(self.messages)} messages)"
        return self.action.label()


@dataclass(frozen=True, slots=True)
class Recording:
    """A run and its steps."""

    run: Run
    steps: tuple[RecordedStep, ...]

    @property
    def trace_id(self) -> str:
        return self.run.trace_id

    @property
    def agent_label(self) -> str:
        return f"{self.run.agent_name or '?'}@{self.run.agent_version or '?'}"

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(s.action for s in self.steps if s.kind is StepKind.TOOL)


def steps_of(spans: list[Span] | tuple[Span, ...]) -> tuple[RecordedStep, ...]:
    """The model and tool calls among ``spans``, in the order they started."""
    ordered = sorted(spans, key=lambda s: (s.seq, s.start_ns))
    kinds = {SpanKind.LLM: StepKind.LLM, SpanKind.TOOL: StepKind.TOOL}
    chosen = [s for s in ordered if s.kind in kinds]
    return tuple(RecordedStep(i, kinds[s.kind], s) for i, s in enumerate(chosen, 1))


def load_recording(store: TraceStore, run_id: str) -> Recording:
    """Load a run (full trace id or unique prefix) and its steps; errors name the run."""
    trace = load_trace(store, run_id)
    if trace.run is None:
        raise InputError(
            f"run {trace.trace_id}: its spans are stored but not its run record "
            "(still running, or partly delivered): nothing to replay yet"
        )
    return Recording(trace.run, steps_of(trace.spans))


def describe_actual_tool(name: str, args: JSON) -> str:
    return f"{name}({compact(args, 80)})"
