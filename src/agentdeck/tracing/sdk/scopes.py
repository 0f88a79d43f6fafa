"""Context-managed spans: ``run`` (and nested agents), ``handoff``, ``span`` and ``llm``.

Each is a small class usable as ``with`` and ``async with``. Entering sets the current span
(:data:`agentdeck.tracing.sdk.recorder.current`); leaving restores it and submits the finished span.
An exception raised by the agent's code inside the block is recorded and propagates unchanged;
an exception inside the recording itself is counted and swallowed. User values are captured when
they are given (inputs, messages, params and attributes when the block opens; outputs and
responses when they are set): changing them afterwards does not change the trace.

- ``run(agent=..., input=..., session_id=..., user_id=...)`` at top level starts a Run (new
  trace id) stamped with the resolved agent and, when given, the session and user (also
  ``session.id`` / ``user.id`` on its root span); its root span is an ``agent`` span, and a :class:`Run` record is emitted when
  it ends. Started from a remote context (``parent=extract_traceparent(headers)``) it is still
  its own Run, because a Run is identified by its trace id: its root span links (``follows``)
  to the remote span and the run's attributes name ``parent.trace_id``/``parent.span_id``.
- ``run(...)`` inside a run, and ``handoff(to=...)``, open a nested ``agent`` span in the same
  trace: tools called inside validate against, and guards see, that agent.

:class:`Detached` is the same blocks without ``with``, for integrations: a ``run``, ``llm`` or
``span`` started now and ended later (a framework callback, the end of a stream), without ever
becoming the current span.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from types import TracebackType
from typing import Any, Literal

from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.spec.arms import ArmChoice
from agentdeck.core.trace.model import (
    LinkKind,
    Outcome,
    Run,
    SpanKind,
    SpanLink,
    SpanStatus,
    TokenUsage,
)
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.code_path import CODE_PATH_ATTR, code_root
from agentdeck.tracing.sdk.recorder import RunRecord, Scope, SpanHandle, finish, time_ns
from agentdeck.tracing.sdk.run_who import arm_of, who
from agentdeck.tracing.sdk.traceparent import RemoteContext, from_carrier
from agentdeck.tracing.sdk.wire import capture, capture_map

AgentArg = str | AgentSpec | ResolvedAgent | None


class RunHandle(SpanHandle):
    """What ``with agentdeck.run(...) as run`` gives: the agent span plus what the run is stamped with."""

    __slots__ = ("_outcome", "agent", "deployment_id", "env", "input")

    agent: ResolvedAgent | None
    env: str | None
    deployment_id: str | None
    input: Any
    _outcome: tuple[Outcome, float | None, str | None] | None

    def set_outcome(
        self, *, success: bool, score: float | None = None, reason: str | None = None
    ) -> None:
        """Record whether the run achieved its purpose, before the ``run`` block ends (a later
        call replaces an earlier one). ``score`` is any finite number (e.g. in [0, 1]) and
        ``reason`` a short text; a score that is not a finite number is left out (logged), so
        that recording never raises into the agent. Only a top-level run has an outcome: on a
        nested run or a hand-off's agent it is not recorded."""
        value: float | None = None
        if score is not None:
            try:
                value = float(score)
            except (TypeError, ValueError, OverflowError):
                value = math.nan
            if not math.isfinite(value):
                rec.log.warning("agentdeck: set_outcome score %r is not a finite number", score)
                value = None
        self._outcome = (
            Outcome.SUCCESS if success else Outcome.FAILURE,
            value,
            None if reason is None else str(reason),
        )


def _noop_run(input: Any) -> RunHandle:
    h = RunHandle("", "", "run", SpanKind.AGENT, None)
    h.agent, h.env, h.deployment_id, h.input, h._outcome = None, None, None, input, None
    return h


class _Block(ABC):
    """Shared enter/exit plumbing; subclasses implement ``_open`` and ``_close``."""

    _handle: SpanHandle
    _cfg: rec.Config | None = None
    _token: Any = None
    _prev: SpanHandle | None = None

    @abstractmethod
    def _open(self, cfg: rec.Config, parent: SpanHandle | None) -> SpanHandle | None:
        """Start the span; None means record nothing for this block."""

    @abstractmethod
    def _close(self, cfg: rec.Config, exc: BaseException | None) -> None:
        """Finish the span (``exc`` is the exception leaving the block, if any)."""

    def _noop(self) -> SpanHandle:
        return SpanHandle("", "", "noop", SpanKind.CUSTOM, None)

    def __enter__(self) -> Any:
        cfg = rec.config
        h = None
        if cfg is not None:
            self._prev = rec.current.get()
            try:
                h = self._open(cfg, self._prev)
            except Exception as exc:
                rec.internal_error(type(self).__name__, exc)
                h = None
        if h is None:
            self._handle = self._noop()
            return self._handle
        self._cfg, self._handle = cfg, h
        self._token = rec.current.set(h)
        return h

    def __exit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        cfg = self._cfg
        if cfg is None:
            return False
        rec.reset(self._token, self._prev)
        try:
            self._close(cfg, exc)
        except Exception as err:
            rec.internal_error(type(self).__name__, err)
        return False

    async def __aenter__(self) -> Any:
        return self.__enter__()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> Literal[False]:
        return self.__exit__(et, exc, tb)


class run(_Block):
    """Record a run of ``agent`` (a reference, AgentSpec or ResolvedAgent) on ``input``."""

    def __init__(
        self,
        agent: AgentArg = None,
        input: Any = None,
        *,
        parent: RemoteContext | str | dict[str, str] | None = None,
        attributes: dict[str, Any] | None = None,
        name: str | None = None,
        session_id: str | None = None,
        user_id: str | None = None,
    ) -> None:
        self._agent_arg, self._input, self._parent_arg = agent, input, parent
        self._attributes, self._name = attributes, name
        self._who = who(session_id, user_id)

    def _noop(self) -> SpanHandle:
        return _noop_run(self._input)

    def _open(self, cfg: rec.Config, parent: SpanHandle | None) -> SpanHandle | None:
        res = rec.resolve_agent(self._agent_arg, cfg)
        agent, why = res.agent, res.error
        self._arm: ArmChoice | None = None
        self._why = why
        if why is not None:
            rec.log.warning("agentdeck: run of %r not resolved: %s", self._agent_arg, why)
        self._remote = None
        if parent is None or parent.scope is None:
            self._remote = (
                from_carrier(self._parent_arg)
                if isinstance(self._parent_arg, str | dict)
                else self._parent_arg
            )
            run_rec, parent_id = RunRecord(rec.new_trace_id()), None
        else:
            run_rec, parent_id = parent.scope.run, parent.span_id
        if agent is not None and agent.canary is not None:
            self._arm = arm_of(agent, self._who, run_rec.trace_id)
            agent = self._arm.agent if self._arm is not None else agent
        self._root = parent_id is None
        self._parent_id = parent_id
        env = (agent.env if agent is not None else None) or cfg.env
        sid = rec.new_span_id()
        ref = self._agent_arg if isinstance(self._agent_arg, str) else None
        name = self._name or (agent.name if agent else (ref.split("@", 1)[0] if ref else "run"))
        scope = Scope(run_rec, agent, env, sid, why, res.stamp(cfg.on_unresolved))
        h = RunHandle(run_rec.trace_id, sid, name, SpanKind.AGENT, scope)
        h.agent, h.env, h.input, h._outcome = agent, env, self._input, None
        self._input_data = capture(self._input)
        self._attrs_data = capture_map(self._attributes)
        h.scope.handle = h  # type: ignore[union-attr]
        h.deployment_id = agent.deployment_id if agent else None
        if self._remote is not None:
            h.link(SpanLink(self._remote.trace_id, self._remote.span_id, LinkKind.FOLLOWS))
        self._seq, self._start = next(run_rec.seq), time_ns()
        return h

    def _stamp(self, h: RunHandle) -> dict[str, Any]:
        a = h.agent
        attrs: dict[str, Any] = dict(self._attrs_data)
        if isinstance(self._agent_arg, str):
            attrs["agent.ref"] = self._agent_arg
        if a is not None:
            attrs.update({"agent.name": a.name, "agent.digest": a.digest})
            if a.version:
                attrs["agent.version"] = a.version
            if root := code_root(a.spec.entrypoint):
                attrs[CODE_PATH_ATTR] = root
        if h.env is not None:
            attrs["agent.env"] = h.env
        if h.deployment_id is not None:
            attrs["agent.deployment_id"] = h.deployment_id
        if self._arm is not None:
            attrs["agentdeck.deployment.id"] = h.deployment_id
            attrs["agentdeck.canary.arm"] = self._arm.arm
            attrs["agentdeck.canary.share"] = self._arm.share
        if self._why is not None:
            attrs["agent.resolve_error"] = self._why
        if h.scope is not None and h.scope.stamp:
            attrs.update(h.scope.stamp)  # resolution error, cache use, on_unresolved
        if self._remote is not None:
            attrs["parent.trace_id"] = self._remote.trace_id
            attrs["parent.span_id"] = self._remote.span_id
        return attrs

    def _close(self, cfg: rec.Config, exc: BaseException | None) -> None:
        h = self._handle
        assert isinstance(h, RunHandle)
        attrs = self._stamp(h)
        run_attrs = dict(attrs)
        session_id, user_id = self._who
        if session_id is not None:
            attrs["session.id"] = session_id
        if user_id is not None:
            attrs["user.id"] = user_id
        finish(cfg, h, self._parent_id, self._seq, self._start, exc,
               {"input": self._input_data}, {"output": h.output_data}, attrs)  # fmt: skip
        if not self._root:
            return
        a = h.agent
        ref = self._agent_arg if isinstance(self._agent_arg, str) else None
        outcome, score, reason = h._outcome or (None, None, None)
        cfg.exporter.submit(
            Run(
                trace_id=h.trace_id,
                agent_name=a.name if a else (ref.split("@", 1)[0] if ref else None),
                agent_version=a.version if a and a.version else None,
                agent_digest=a.digest if a else None,
                env=h.env,
                deployment_id=h.deployment_id,
                start_ns=self._start,
                end_ns=time_ns(),
                status=SpanStatus.ERROR if exc is not None else SpanStatus.OK,
                error=rec.describe_error(exc) if exc is not None else None,
                input=self._input_data,
                output=h.output_data,
                root_span_id=h.span_id,
                attributes=run_attrs,
                outcome=outcome,
                outcome_score=score,
                outcome_reason=reason,
                session_id=session_id,
                user_id=user_id,
                canary_arm=self._arm.arm if self._arm is not None else None,
            )
        )


class span(_Block):
    """A generic step inside a run (retrieval, guardrail, custom): ``kind`` is a SpanKind."""

    def __init__(
        self, name: str, kind: SpanKind | str = SpanKind.CUSTOM, *, inputs: Any = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self._name, self._kind, self._inputs = name, SpanKind(kind), inputs
        self._attributes = attributes

    def _open(self, cfg: rec.Config, parent: SpanHandle | None) -> SpanHandle | None:
        if parent is None or parent.scope is None:
            return None
        self._parent_id = parent.span_id
        self._inputs = capture(self._inputs)
        self._attrs_data = capture_map(self._attributes)
        run_rec = parent.scope.run
        h = SpanHandle(run_rec.trace_id, rec.new_span_id(), self._name, self._kind, parent.scope)
        self._seq, self._start = next(run_rec.seq), time_ns()
        return h

    def set_inputs(self, inputs: Any) -> None:
        """Replace the recorded inputs (until the span ends), for steps reported after they start.

        ``inputs`` is captured now."""
        self._inputs = capture(inputs)

    def _close(self, cfg: rec.Config, exc: BaseException | None) -> None:
        h = self._handle
        finish(cfg, h, self._parent_id, self._seq, self._start, exc, self._inputs,
               h.output_data, dict(self._attrs_data))  # fmt: skip


class handoff(_Block):
    """Hand control to another agent: a ``handoff`` span holding that agent's nested agent span."""

    def __init__(self, to: AgentArg, *, input: Any = None, reason: str | None = None) -> None:
        self._to, self._input, self._reason = to, input, reason
        self._inner: run | None = None

    def _noop(self) -> SpanHandle:
        return _noop_run(self._input)

    def _open(self, cfg: rec.Config, parent: SpanHandle | None) -> SpanHandle | None:
        if parent is None or parent.scope is None:
            return None
        to = self._to
        to_name = to if isinstance(to, str) else (to.name if to is not None else "?")
        from_agent = parent.scope.agent
        self._attrs: dict[str, Any] = {
            "handoff.from": from_agent.name if from_agent else None,
            "handoff.to": to_name,
        }
        if self._reason is not None:
            self._attrs["handoff.reason"] = self._reason
        self._outer = span(f"handoff {to_name}", SpanKind.HANDOFF, inputs={"input": self._input},
                           attributes=self._attrs)  # fmt: skip
        self._outer.__enter__()
        self._inner = run(self._to, self._input)
        inner = self._inner.__enter__()
        if not isinstance(inner, RunHandle) or not inner.recording:
            self._outer.__exit__(None, None, None)
            return None
        # The inner run already set the current span; _Block will set it again (same handle).
        return inner

    def _close(self, cfg: rec.Config, exc: BaseException | None) -> None:
        assert self._inner is not None
        et = type(exc) if exc is not None else None
        self._inner.__exit__(et, exc, None)
        outer, inner = self._outer._handle, self._handle
        outer._output, outer.output_data = inner._output, inner.output_data
        self._outer.__exit__(et, exc, None)


class LlmCall(SpanHandle):
    """The handle of an ``llm`` block: call :meth:`record` with what the model answered."""

    __slots__ = ("message_data", "response")

    response: ModelResponse | None
    message_data: Any  # the response's message, captured when recorded

    def record(
        self, response: ModelResponse | None = None, *, message: dict[str, Any] | None = None,
        model: str | None = None, usage: TokenUsage | None = None,
    ) -> None:  # fmt: skip
        """Record the model's answer: a :class:`ModelResponse`, or its parts."""
        if response is None:
            response = ModelResponse(message=message or {"role": "assistant", "content": None},
                                     model=model, usage=usage)  # fmt: skip
        self.response = response
        if self.scope is not None:
            self.message_data = capture(response.message)


def _chat_name(model: str | None, provider: str | None) -> str:
    """An LLM span's name: ``chat <model>``, else ``chat <provider>``, else ``chat``."""
    return f"chat {model or provider}" if (model or provider) else "chat"


class llm(_Block):
    """Record one model call: the full message list (context window), model, params, tools."""

    def __init__(
        self, *, messages: list[dict[str, Any]], model: str | None = None,
        tools: list[dict[str, Any]] | None = None, params: dict[str, Any] | None = None,
        provider: str | None = None, name: str | None = None,
    ) -> None:  # fmt: skip
        self._messages, self._model, self._tools = messages, model, tools
        self._params, self._provider, self._name = params, provider, name

    def _noop(self) -> SpanHandle:
        h = LlmCall("", "", "llm", SpanKind.LLM, None)
        h.response = h.message_data = None
        return h

    def _open(self, cfg: rec.Config, parent: SpanHandle | None) -> SpanHandle | None:
        if parent is None or parent.scope is None:
            return None
        scope = parent.scope
        spec = scope.agent.spec if scope.agent is not None else None
        self._model = (
            self._model or (self._params or {}).get("model") or (spec.model.id if spec else None)
        )
        self._provider = self._provider or (spec.model.provider if spec else None)
        self._inputs = self._request()
        self._params_data = capture(dict(self._params or {}), owned=True)
        run_rec = scope.run
        name = self._name or _chat_name(self._model, self._provider)
        h = LlmCall(run_rec.trace_id, rec.new_span_id(), name, SpanKind.LLM, scope)
        h.response = h.message_data = None
        fresh, run_rec.fresh_results = run_rec.fresh_results, deque(maxlen=64)
        for sid in fresh:  # tool results this call's context window consumed
            h.link((run_rec.trace_id, sid))
        self._parent_id = parent.span_id
        self._seq, self._start = next(run_rec.seq), time_ns()
        return h

    def _request(self) -> dict[str, Any]:
        # Captured now: agents append to their message list, and edit its dicts, after the call.
        return {
            "messages": capture(self._messages),
            "tools": capture(self._tools) if self._tools else [],
        }

    def set_request(
        self, *, messages: list[dict[str, Any]] | None = None,
        tools: list[dict[str, Any]] | None = None, model: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """Replace parts of the recorded request (until the span ends); None keeps a part.

        For frameworks that report a call's request only when the call is done (the Agents SDK
        fills a generation's input at its end). A new ``model`` also renames the span
        (``chat <model>``) unless it was given a ``name``.
        """
        if messages is not None:
            self._messages = messages
        if tools is not None:
            self._tools = tools
        if hasattr(self, "_inputs"):  # already open: _open copied the request
            self._inputs = self._request()
        if model:
            self._model = model
            h = getattr(self, "_handle", None)
            if h is not None and self._name is None:
                h.name = f"chat {model}"
        if params:
            self._params = params
            if hasattr(self, "_params_data"):
                self._params_data = capture(dict(params), owned=True)

    def _close(self, cfg: rec.Config, exc: BaseException | None) -> None:
        h = self._handle
        assert isinstance(h, LlmCall)
        resp = h.response
        attrs: dict[str, Any] = {"llm.provider": self._provider, "llm.model": self._model,
                                 "llm.params": self._params_data}  # fmt: skip
        outputs = None
        if resp is not None:
            attrs["llm.response_model"] = resp.model
            if not self._model and self._name is None and resp.model:
                h.name = _chat_name(resp.model, None)  # the model known only from the answer
            msg = h.message_data
            outputs = {"message": msg if msg is not None else capture(resp.message)}
            calls = resp.message.get("tool_calls") or ()
            if calls and h.scope is not None:
                pending: dict[str, list[tuple[str, str]]] = {}
                for c in calls:
                    pending.setdefault(str(c.get("name")), []).append((h.span_id, str(c.get("id"))))
                h.scope.run.pending_calls = pending
        usage = resp.usage if resp is not None else None
        if usage is not None and cfg.guard is not None and h.scope is not None:
            _add_spend(h.scope.run.state, attrs, usage, self._start)
        finish(cfg, h, self._parent_id, self._seq, self._start, exc, self._inputs, outputs,
               attrs, usage)  # fmt: skip


def _add_spend(state: Any, attrs: dict[str, Any], usage: TokenUsage, start_ns: int) -> None:
    """Keep the run's spend for budget rules (only when a guard enforces policies): the call
    priced in process from its model (:mod:`agentdeck.prices`); never raises."""
    try:
        from agentdeck.core.cost import SpanCost, call_cost, model_of
        from agentdeck.prices import default_prices

        model, provider = model_of(attrs)
        price = default_prices().price(model, provider, start_ns) if model else None
        usd = None if price is None else call_cost(usage, price)
        state.add_spend(SpanCost(usd, model, usage.input_tokens, usage.output_tokens))
    except Exception as exc:
        rec.internal_error("llm cost", exc)


# Re-exported: Detached drives the blocks above (imported last: it needs them only for types).
from agentdeck.tracing.sdk.detached import Detached  # noqa: E402

__all__ = ["AgentArg", "Detached", "LlmCall", "RunHandle", "handoff", "llm", "run", "span"]
