"""OpenAI Agents SDK: a tracing processor mapping its spans to agentdeck spans, and policy on tools.

::

    from agents import Agent, Runner, add_trace_processor
    from agentdeck.integrations.openai_agents import AgentdeckTracingProcessor, guard_agent

    add_trace_processor(AgentdeckTracingProcessor(agent="support-bot@production"))
    result = Runner.run_sync(guard_agent(agent), "Weather in Oslo?")

:class:`AgentdeckTracingProcessor` turns each Agents SDK trace into an agentdeck run (or, when
the trace starts inside ``agentdeck.run``, into spans under that run) and maps its spans,
parent for parent: ``agent`` -> ``agent`` span; ``generation`` (chat completions) and
``response`` (Responses API) -> ``llm`` spans in agentdeck's chat form with usage; ``function``
-> ``tool`` span (args, result, linked to the ``llm`` span that asked for it); ``handoff`` ->
``handoff`` span (``handoff.from``/``handoff.to``); ``guardrail`` -> ``guardrail`` span;
anything else -> a ``custom`` span named by its type. The SDK's spans carry inputs and outputs
only with ``trace_include_sensitive_data`` (its default).

:func:`guard_tool` / :func:`guard_agent` route function tools through
:func:`agentdeck.tracing.sdk.tools.guarded_call`, so the guard configured with ``agentdeck.init``
(policy) decides each call before it runs. A denial raises ``PolicyDenied`` (the Agents SDK
surfaces it as ``UserError`` caused by it), or with ``on_deny="tell_model"`` is returned to
the model as the tool's output so the agent can recover.

Needs ``pip install 'agentdeck[agents]'``; importing this module without ``openai-agents``
raises an ImportError naming that extra.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any, Literal

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.trace.model import SpanKind, TokenUsage
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.integrations._spans import (
    FrameworkError,
    ObservedTool,
    end_llm,
    loads_args,
    plain,
    require,
    set_llm_request,
    slots,
    start_llm,
)
from agentdeck.integrations.openai import chat_message, response_items, responses_usage, tool_def
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.recorder import SpanHandle
from agentdeck.tracing.sdk.scopes import Detached, run, span
from agentdeck.tracing.sdk.tools import aguarded_call

__all__ = ["AgentdeckTracingProcessor", "guard_agent", "guard_tool"]

_agents = require("agents", "agents", "openai_agents")
_tracing = require("agents.tracing", "agents", "openai_agents")

_KINDS = {"agent": SpanKind.AGENT, "handoff": SpanKind.HANDOFF, "guardrail": SpanKind.GUARDRAIL}


_ProcessorBase: Any = _tracing.TracingProcessor


class AgentdeckTracingProcessor(_ProcessorBase):
    """Records Agents SDK traces and spans as agentdeck runs and spans.

    ``agent`` stamps the runs this processor opens for traces started outside ``agentdeck.run``.
    Register it with ``agents.add_trace_processor`` (alongside the SDK's own exporter) or
    ``agents.set_trace_processors([...])`` (instead of it).
    """

    def __init__(self, agent: str | AgentSpec | ResolvedAgent | None = None) -> None:
        self.agent = agent
        self._lock = threading.Lock()
        self._traces: dict[str, tuple[Detached | None, SpanHandle]] = {}
        self._spans: dict[str, Detached] = {}
        self._tools: dict[str, ObservedTool] = {}
        self._collapsed: dict[str, SpanHandle] = {}  # task spans: their children go to the parent

    # -- traces --

    def on_trace_start(self, trace: Any) -> None:
        try:
            current = rec.current.get()
            if current is not None and current.recording:
                with self._lock:
                    self._traces[trace.trace_id] = (None, current)
                return
            d = Detached(run(self.agent, None, name=None if self.agent else trace.name,
                             attributes={"agents.trace_id": trace.trace_id,
                                         "agents.workflow": trace.name}))  # fmt: skip
            if d.start(None) is not None and d.handle is not None:
                with self._lock:
                    self._traces[trace.trace_id] = (d, d.handle)
        except Exception as exc:
            rec.internal_error("agents trace start", exc)

    def on_trace_end(self, trace: Any) -> None:
        with self._lock:
            entry = self._traces.pop(trace.trace_id, None)
        if entry is not None and entry[0] is not None:
            entry[0].end(None)

    # -- spans --

    def _parent(self, s: Any) -> SpanHandle | None:
        with self._lock:
            if s.parent_id:
                d = self._spans.get(s.parent_id)
                if d is not None:
                    return d.handle
                t = self._tools.get(s.parent_id)
                if t is not None:
                    return t.detached.handle or t.parent
                c = self._collapsed.get(s.parent_id)
                if c is not None:
                    return c
            entry = self._traces.get(s.trace_id)
        return entry[1] if entry is not None else None

    def on_span_start(self, s: Any) -> None:
        try:
            parent = self._parent(s)
            if parent is None:
                return
            data = s.span_data
            kind = data.type
            if kind == "task":  # the whole workflow: the run (or enclosing span) already is it
                with self._lock:
                    self._collapsed[s.span_id] = parent
                return
            if kind == "function":
                tool = ObservedTool(data.name, {}, parent)
                with self._lock:
                    self._tools[s.span_id] = tool
                slots.open(s.span_id, tool)
                return
            if kind in ("generation", "response"):
                model = getattr(data, "model", None)
                d = start_llm(messages=[], model=str(model) if model else None, tools=[],
                              params={}, provider="openai", parent=parent)  # fmt: skip
            else:
                d = Detached(span(_name(data), _KINDS.get(kind, SpanKind.CUSTOM),
                                  attributes={"agents.span_type": kind}))  # fmt: skip
                d.start(parent)
            if d.handle is not None:
                with self._lock:
                    self._spans[s.span_id] = d
        except Exception as exc:
            rec.internal_error("agents span start", exc)

    def on_span_end(self, s: Any) -> None:
        with self._lock:
            d = self._spans.pop(s.span_id, None)
            tool = self._tools.pop(s.span_id, None) if d is None else None
            self._collapsed.pop(s.span_id, None)
        err = s.error
        exc = FrameworkError(str(err.get("message")), err.get("data")) if err else None
        data = s.span_data
        if tool is not None:
            slots.pop(s.span_id)
            try:
                tool.set_args(loads_args(data.input) if data.input else {})
                result = data.output
            except Exception as e:
                rec.internal_error("agents tool end", e)
                result = None
            tool.end(result, exc)
            return
        if d is None:
            return
        if data.type in ("generation", "response"):
            response: ModelResponse | None = None
            attrs: dict[str, Any] = {}
            try:
                response, attrs = _llm_end(d, data)
            except Exception as e:
                rec.internal_error("agents llm end", e)
            end_llm(d, response, exc, attrs)
            return
        try:
            _annotate(d.handle, data)
        except Exception as e:
            rec.internal_error("agents span end", e)
        d.end(exc)

    def shutdown(self) -> None:
        pass

    def force_flush(self) -> None:
        from agentdeck.tracing.sdk.api import flush

        flush()


def _name(data: Any) -> str:
    kind = data.type
    if kind == "handoff":
        return f"handoff {data.to_agent}"
    if kind == "turn":
        return f"turn {data.turn}"
    name = getattr(data, "name", None)
    return str(name) if name else kind


def _annotate(h: SpanHandle | None, data: Any) -> None:
    """Copy what the SDK filled in during the span onto its agentdeck span."""
    if h is None:
        return
    kind = data.type
    if kind == "agent":
        h.set_attribute("agent.name", data.name)
        if data.tools:
            h.set_attribute("agents.tools", list(data.tools))
        if data.handoffs:
            h.set_attribute("agents.handoffs", list(data.handoffs))
        if data.output_type:
            h.set_attribute("agents.output_type", data.output_type)
    elif kind == "handoff":
        h.name = f"handoff {data.to_agent}"  # known only at the end
        h.set_attribute("handoff.from", data.from_agent)
        h.set_attribute("handoff.to", data.to_agent)
    elif kind == "guardrail":
        h.set_attribute("guardrail.name", data.name)
        h.set_attribute("guardrail.triggered", bool(data.triggered))
        h.set_output({"triggered": bool(data.triggered)})
    elif kind == "turn":
        h.set_attribute("agent.name", data.agent_name)
    else:
        h.set_output(plain(getattr(data, "data", None) or data.export()))


def _llm_end(d: Detached, data: Any) -> tuple[ModelResponse | None, dict[str, Any]]:
    """Fill in the request (known only now) and read the answer of a generation/response span."""
    if data.type == "generation":
        config = dict(data.model_config or {})
        messages = [chat_message(m) for m in data.input or ()]
        set_llm_request(d, messages=messages, tools=None, model=data.model, params=config)
        outs = [chat_message(m) for m in data.output or ()]
        message = outs[0] if outs else {"role": "assistant", "content": None}
        message["role"] = "assistant"
        u = data.usage or {}
        usage = TokenUsage(
            input_tokens=u.get("input_tokens") or 0,
            output_tokens=u.get("output_tokens") or 0,
            cache_read_tokens=(u.get("input_tokens_details") or {}).get("cached_tokens") or 0,
            reasoning_tokens=(u.get("output_tokens_details") or {}).get("reasoning_tokens") or 0,
        ) if u else None  # fmt: skip
        return ModelResponse(message=message, model=data.model, usage=usage), {}
    resp = data.response
    items = data.input
    messages = [{"role": "user", "content": items}] if isinstance(items, str) else (
        response_items(items or ()))  # fmt: skip
    if resp is None:
        set_llm_request(d, messages=messages, tools=None, model=None, params={})
        return None, {}
    instructions = getattr(resp, "instructions", None)
    if isinstance(instructions, str):
        messages.insert(0, {"role": "system", "content": instructions})
    tools = [tool_def(t) for t in getattr(resp, "tools", None) or ()]
    set_llm_request(d, messages=messages, tools=tools, model=resp.model, params={})
    out = response_items(resp.output or ())
    answer: dict[str, Any] = {"role": "assistant", "content": None}
    for m in out:
        if isinstance(m.get("content"), str):
            answer["content"] = (answer["content"] or "") + m["content"]
        if m.get("tool_calls"):
            answer.setdefault("tool_calls", []).extend(m["tool_calls"])
    return (
        ModelResponse(message=answer, model=resp.model, usage=responses_usage(resp.usage)),
        {"llm.response_id": resp.id},
    )


# -- policy on tools -------------------------------------------------------------------------


def guard_tool(tool: Any, *, on_deny: Literal["raise", "tell_model"] = "raise") -> Any:
    """A copy of function tool ``tool`` whose calls go through agentdeck's guarded tool path.

    The configured guard (policy) decides each call before the tool runs; on a denial the tool
    does not run and ``PolicyDenied`` is raised (``on_deny="raise"``) or its message is
    returned to the model as the tool's output (``on_deny="tell_model"``). Other tools (hosted
    tools, already guarded ones) are returned unchanged.
    """
    if not isinstance(tool, _agents.FunctionTool) or getattr(tool.on_invoke_tool,
                                                              "__agentdeck_guarded__", False):  # fmt: skip
        return tool
    invoke = tool.on_invoke_tool
    name = tool.name

    async def on_invoke_tool(ctx: Any, input_json: str) -> Any:
        current = _tracing.get_current_span()
        parent = slots.claim(current.span_id) if current is not None else None
        args = loads_args(input_json)
        try:
            return await aguarded_call(name, args if isinstance(args, dict) else {"input": args},
                                       lambda: invoke(ctx, input_json), parent=parent)  # fmt: skip
        except PolicyDenied as denied:
            if on_deny == "tell_model":
                return f"Policy denied this call: {denied}"
            raise

    on_invoke_tool.__agentdeck_guarded__ = True  # type: ignore[attr-defined]
    return dataclasses.replace(tool, on_invoke_tool=on_invoke_tool)


def guard_agent(agent: Any, *, on_deny: Literal["raise", "tell_model"] = "raise") -> Any:
    """A copy of ``agent`` with each function tool guarded (see :func:`guard_tool`)."""
    return agent.clone(tools=[guard_tool(t, on_deny=on_deny) for t in agent.tools])
