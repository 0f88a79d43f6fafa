"""Serving a recording to an agent: the model client and tool interceptors replay hands it.

- :class:`StrictReplayer` (``agentdeck replay RUN_ID``) is both the agent's model client and
  the tool interceptor. It walks the recorded steps in order: each model call must be the next
  step and carry the recorded context window, offered tools and params; each tool call must be
  the next step with the recorded name and args. What matches gets the recorded answer. The
  first mismatch is kept as the :class:`Divergence` and stops the run by raising
  :class:`ReplayStopped`, a ``BaseException`` (like pytest's outcome exceptions) so that an
  agent's ``except Exception`` cannot swallow it.
- :class:`MatchingInterceptor` (``--with REF``) serves a candidate version's tool calls by
  (name, canonical args) from the recorded calls, each recorded call at most once; a call with
  no match is a miss (the agent gets :class:`ToolCallNotRecorded`) or, with ``live_tools``,
  runs for real. The candidate's model is its own client.

A recorded tool error is served as :class:`ReplayedToolError` carrying the recorded message
(a recorded policy denial as ``PolicyDenied`` again, so agents that handle denials behave the
same); a recorded model error as :class:`ReplayedModelError`.
"""

from __future__ import annotations

import builtins
import functools
import threading
from collections import deque
from collections.abc import Collection
from typing import NoReturn

from agentdeck.core.errors import AgentDeckError, PolicyDenied
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.core.types import JSON
from agentdeck.tracing.replay.recording import RecordedStep, StepKind, describe_actual_tool
from agentdeck.tracing.replay.report import (
    Action,
    CandidateCall,
    Divergence,
    DivergenceKind,
    Served,
    first_difference,
)
from agentdeck.tracing.sdk.api import current_run
from agentdeck.tracing.sdk.guard import Intercepted, ToolCallInfo
from agentdeck.tracing.sdk.wire import to_json_data


class ReplayedToolError(AgentDeckError):
    """A tool call whose recorded outcome was an error.

    ``str()`` is the original exception's message and ``recorded`` the whole recorded text
    (``KeyError: 'no order'``). When the original was a built-in exception, the error raised is
    also an instance of that type (a ``KeyError`` here), so the agent's ``except`` clauses take
    the same branch they took when the run was recorded.
    """

    def __init__(self, tool: str, recorded: str, message: str, error_type: str | None) -> None:
        self.tool = tool
        self.recorded = recorded
        self.message = message
        self.error_type = error_type
        super().__init__(message)

    def __str__(self) -> str:
        return self.message


class ReplayedModelError(AgentDeckError):
    """A model call whose recorded outcome was an error: ``recorded`` is the recorded text."""

    def __init__(self, recorded: str) -> None:
        self.recorded = recorded
        super().__init__(recorded)


@functools.cache
def _error_class(type_name: str | None) -> type[ReplayedToolError]:
    """``ReplayedToolError``, mixed with the built-in exception type of that name if there is one."""
    base = getattr(builtins, type_name, None) if type_name else None
    if not isinstance(base, type) or not issubclass(base, Exception):
        return ReplayedToolError
    try:
        return type(base.__name__, (ReplayedToolError, base), {"__module__": __name__})
    except TypeError:  # an incompatible layout: the plain error still carries the message
        return ReplayedToolError


def replayed_tool_error(tool: str, recorded: str, error_type: str | None) -> ReplayedToolError:
    """The error to raise for a recorded tool failure (see :class:`ReplayedToolError`)."""
    name = error_type.rsplit(".", 1)[-1] if error_type else None
    prefix = f"{name}: " if name else ""
    message = recorded[len(prefix) :] if prefix and recorded.startswith(prefix) else recorded
    return _error_class(name)(tool, recorded, message, error_type)


class ToolCallNotRecorded(AgentDeckError):
    """A candidate's tool call that no recorded call matches (a miss); the tool did not run."""

    def __init__(self, tool: str, args: JSON) -> None:
        self.tool = tool
        self.args = args
        super().__init__(
            f"{describe_actual_tool(tool, args)}: no recorded call has this name and these arguments"
        )


class ReplayStopped(BaseException):
    """Raised into the agent at the first divergence, to end the reproduction there."""

    def __init__(self, divergence: Divergence) -> None:
        self.divergence = divergence
        super().__init__(f"replay diverged at step {divergence.step}: {divergence.kind.value}")


def serve_tool(step: RecordedStep) -> Intercepted:
    """The recorded outcome of a tool step: its result, or its error raised again."""
    if not step.failed:
        return Intercepted(step.result)
    recorded = step.span.error or "error (no message recorded)"
    if step.span.attributes.get("tool.denied"):
        rules = [str(r) for r in step.span.attributes.get("policy.rules") or []]
        prefix = f"PolicyDenied: {PolicyDenied(step.tool, rules, '')}"
        message = recorded[len(prefix) :] if recorded.startswith(prefix) else recorded
        raise PolicyDenied(step.tool, rules, message)
    etype = step.span.attributes.get("error.type")
    raise replayed_tool_error(step.tool, recorded, etype if isinstance(etype, str) else None)


class StrictReplayer:
    """Model client and tool interceptor serving one recording in order (see the module doc)."""

    def __init__(self, steps: tuple[RecordedStep, ...]) -> None:
        self.steps = steps
        self.served = 0
        self.divergence: Divergence | None = None
        self.trace_id: str | None = None  # the replay run's, seen on the first call
        self._lock = threading.Lock()

    # -- ModelClient -------------------------------------------------------------------------

    def complete(
        self, messages: list[dict[str, JSON]], tools: list[dict[str, JSON]], params: dict[str, JSON]
    ) -> ModelResponse:
        handle = current_run()
        if handle is not None and handle.trace_id:
            self.trace_id = handle.trace_id
        actual = f"model call ({len(messages)} messages)"
        with self._lock:
            step = self._take(StepKind.LLM, actual)
            for kind, expected, got in (
                (DivergenceKind.MESSAGES, step.messages, messages),
                (DivergenceKind.TOOLS, step.tools, tools),
                (DivergenceKind.PARAMS, step.params, params),
            ):
                found = first_difference(expected, to_json_data(got), kind.value)
                if found is not None:
                    self._stop(step.number, kind, step.label(), actual, *found)
            self.served += 1
        if step.failed:
            raise ReplayedModelError(step.span.error or "error (no message recorded)")
        return step.response()

    # -- ToolInterceptor ---------------------------------------------------------------------

    def intercept(self, call: ToolCallInfo) -> Intercepted | None:
        self.trace_id = call.trace_id
        actual = describe_actual_tool(call.tool, call.args)
        with self._lock:
            step = self._take(StepKind.TOOL, actual)
            if step.tool != call.tool:
                self._stop(step.number, DivergenceKind.TOOL_NAME, step.label(), actual,
                           "tool", step.tool, call.tool)  # fmt: skip
            found = first_difference(step.args, to_json_data(dict(call.args)), "args")
            if found is not None:
                self._stop(step.number, DivergenceKind.TOOL_ARGS, step.label(), actual, *found)
            self.served += 1
        return serve_tool(step)

    # -- the cursor --------------------------------------------------------------------------

    def _take(self, kind: StepKind, actual: str) -> RecordedStep:
        """The next recorded step, which must be of ``kind``; stops the run otherwise."""
        if self.divergence is not None:  # the agent swallowed the stop: stop it again
            raise ReplayStopped(self.divergence)
        index = self.served
        if index >= len(self.steps):
            self._stop(index + 1, DivergenceKind.EXTRA, "the run ended", actual, "", None, actual)
        step = self.steps[index]
        if step.kind is not kind:
            self._stop(
                step.number, DivergenceKind.STEP, step.label(), actual, "", step.label(), actual
            )
        return step

    def _stop(self, step: int, kind: DivergenceKind, expected_call: str, actual_call: str,
              path: str, expected: JSON, actual: JSON) -> NoReturn:  # fmt: skip
        self.divergence = Divergence(step, kind, expected_call, actual_call, path, expected, actual)
        raise ReplayStopped(self.divergence)

    def remaining(self) -> RecordedStep | None:
        """The first recorded step the replay has not reached (None if all were served)."""
        return self.steps[self.served] if self.served < len(self.steps) else None


class MatchingInterceptor:
    """Serves tool calls by (name, canonical args) from a recording; logs every call it sees."""

    def __init__(
        self, steps: tuple[RecordedStep, ...], *, live_tools: bool | Collection[str] = False
    ) -> None:
        """``live_tools``: True runs every unmatched call live; a collection of tool names
        runs those tools live always (read-only tools) and refuses the other misses."""
        self.live_tools = live_tools is True
        self.always_live = frozenset(() if isinstance(live_tools, bool) else live_tools)
        self.calls: list[CandidateCall] = []
        self._pool: dict[str, deque[RecordedStep]] = {}
        for s in steps:
            if s.kind is StepKind.TOOL:
                self._pool.setdefault(s.action.key, deque()).append(s)
        self._lock = threading.Lock()

    def intercept(self, call: ToolCallInfo) -> Intercepted | None:
        action = Action(call.tool, to_json_data(dict(call.args)))
        if call.tool in self.always_live:
            with self._lock:
                self.calls.append(CandidateCall(action, Served.LIVE))
            return None
        with self._lock:
            queue = self._pool.get(action.key)
            step = queue.popleft() if queue else None
            if step is None:
                served = Served.LIVE if self.live_tools else Served.MISS
            else:
                served = Served.RECORDED_ERROR if step.failed else Served.RECORDING
            self.calls.append(CandidateCall(action, served))
        if step is not None:
            return serve_tool(step)
        if self.live_tools:
            return None
        raise ToolCallNotRecorded(call.tool, action.args)
