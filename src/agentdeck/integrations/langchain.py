"""LangChain / LangGraph: a callback handler recording runs as agentdeck spans, and policy on tools.

::

    from agentdeck.integrations.langchain import AgentdeckCallbackHandler, guard_tools

    graph = create_react_agent(model, guard_tools([get_weather, refund]))
    graph.invoke({"messages": [...]},
                 config={"callbacks": [AgentdeckCallbackHandler(agent="support-bot@production")]})

:class:`AgentdeckCallbackHandler` maps LangChain's run tree onto spans, parent for parent:

- the top-level chain (a LangGraph graph, an agent executor) becomes the run: an ``agent``
  span, with its Run record, stamped with ``agent=`` (inside an ``agentdeck.run`` block it
  nests under that run as a ``custom`` span instead, so the run keeps its agent);
- other chains (graph nodes, runnable sequences) become ``custom`` spans (``langchain.type``);
- chat models and LLMs become ``llm`` spans with the messages in agentdeck's chat form, the
  bound tools, invocation params, the answer with its tool calls, and token usage;
- tools become ``tool`` spans, linked to the ``llm`` span that asked for them.

:func:`guard_tool` (and :func:`guard_tools`) return a copy of a LangChain tool whose calls run
through :func:`agentdeck.tracing.sdk.tools.guarded_call`: the configured guard (policy) decides
each call before the tool runs, a denial raises ``PolicyDenied`` out of the tool, and the
tool span is recorded by that path (the handler then records the call only once).

Needs ``pip install 'agentdeck[langchain]'``; importing this module without ``langchain-core``
raises an ImportError naming that extra.
"""

from __future__ import annotations

import inspect
import threading
import typing
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from agentdeck.core.spec.agent import AgentSpec, ResolvedAgent
from agentdeck.core.trace.model import SpanKind, TokenUsage
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.integrations._spans import (
    ObservedTool,
    end_llm,
    plain,
    require,
    slots,
    start_llm,
)
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.recorder import SpanHandle
from agentdeck.tracing.sdk.scopes import Detached, run, span
from agentdeck.tracing.sdk.tools import aguarded_call, guarded_call

__all__ = ["AgentdeckCallbackHandler", "guard_tool", "guard_tools", "lc_message"]

_callbacks = require("langchain_core.callbacks", "langchain", "langchain")
_messages = require("langchain_core.messages", "langchain", "langchain")
_tools = require("langchain_core.tools", "langchain", "langchain")
_runnables = require("langchain_core.runnables", "langchain", "langchain")

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool",
          "function": "tool", "chat": "user"}  # fmt: skip


_HandlerBase: Any = _callbacks.BaseCallbackHandler


class AgentdeckCallbackHandler(_HandlerBase):
    """Records LangChain chains, chat models, LLMs and tools as agentdeck spans.

    ``agent`` (a reference such as ``"support-bot@production"``, an AgentSpec or a
    ResolvedAgent) stamps the run this handler opens for a top-level chain started outside any
    ``agentdeck.run``. One handler can serve concurrent invocations (state is keyed by run id).
    """

    run_inline = True  # called on the caller's thread/task, so the current agentdeck span is seen
    raise_error = False

    def __init__(self, agent: str | AgentSpec | ResolvedAgent | None = None) -> None:
        super().__init__()
        self.agent = agent
        self._lock = threading.Lock()
        self._open: dict[UUID, Detached] = {}
        self._tools: dict[UUID, ObservedTool] = {}

    # -- bookkeeping --

    def _parent(self, parent_run_id: UUID | None) -> SpanHandle | None:
        if parent_run_id is None:
            return None
        with self._lock:
            d = self._open.get(parent_run_id)
            t = self._tools.get(parent_run_id) if d is None else None
        if d is not None:
            return d.handle
        if t is not None:  # a chain inside a tool: under the tool (or its parent when guarded)
            return t.detached.handle or t.parent
        return None

    def _keep(self, run_id: UUID, d: Detached) -> None:
        if d.handle is not None:
            with self._lock:
                self._open[run_id] = d

    def _pop(self, run_id: UUID) -> Detached | None:
        with self._lock:
            return self._open.pop(run_id, None)

    # -- chains --

    def on_chain_start(self, serialized: dict[str, Any] | None, inputs: Any, *, run_id: UUID,
                       parent_run_id: UUID | None = None, **kwargs: Any) -> None:  # fmt: skip
        try:
            name = kwargs.get("name") or _name(serialized) or "chain"
            parent = self._parent(parent_run_id)
            data = jsonable(inputs)
            if parent is None and parent_run_id is None:
                current = rec.current.get()
                if current is None or not current.recording:
                    d = Detached(run(self.agent, data, name=None if self.agent else name,
                                     attributes={"langchain.type": "chain", "langchain.name": name}))  # fmt: skip
                    d.start(None)
                    self._keep(run_id, d)
                    return
                parent = current
            if parent is None:
                return
            d = Detached(span(name, SpanKind.CUSTOM, inputs=data,
                              attributes={"langchain.type": "chain"}))  # fmt: skip
            d.start(parent)
            self._keep(run_id, d)
        except Exception as exc:
            rec.internal_error("langchain chain start", exc)

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._end_chain(run_id, outputs, None)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._end_chain(run_id, None, error)

    def _end_chain(self, run_id: UUID, outputs: Any, error: BaseException | None) -> None:
        d = self._pop(run_id)
        if d is None or d.handle is None:
            return
        try:
            if error is None:
                d.handle.set_output(jsonable(outputs))
        except Exception as exc:
            rec.internal_error("langchain chain end", exc)
        d.end(error)

    # -- models --

    def on_chat_model_start(self, serialized: dict[str, Any] | None, messages: list[list[Any]],
                            *, run_id: UUID, parent_run_id: UUID | None = None,
                            metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
        msgs = [lc_message(m) for m in (messages[0] if messages else [])]
        self._start_llm(serialized, msgs, run_id, parent_run_id, metadata, kwargs)

    def on_llm_start(self, serialized: dict[str, Any] | None, prompts: list[str], *,
                     run_id: UUID, parent_run_id: UUID | None = None,
                     metadata: dict[str, Any] | None = None, **kwargs: Any) -> None:  # fmt: skip
        msgs = [{"role": "user", "content": p} for p in prompts[:1]]
        self._start_llm(serialized, msgs, run_id, parent_run_id, metadata, kwargs)

    def _start_llm(self, serialized: dict[str, Any] | None, msgs: list[dict[str, Any]],
                   run_id: UUID, parent_run_id: UUID | None, metadata: dict[str, Any] | None,
                   kwargs: dict[str, Any]) -> None:  # fmt: skip
        try:
            parent = self._parent(parent_run_id) if parent_run_id else rec.current.get()
            if parent is None:
                return
            ip = dict(kwargs.get("invocation_params") or {})
            meta = metadata or {}
            tools = [_tool_def(t) for t in ip.pop("tools", None) or ()]
            model = (ip.get("model") or ip.get("model_name") or meta.get("ls_model_name")
                     or _name(serialized))  # fmt: skip
            provider = meta.get("ls_provider") or ip.get("_type") or "langchain"
            params = {k: v for k, v in ip.items() if k not in ("_type", "stop") or v is not None}
            d = start_llm(messages=msgs, model=str(model) if model else None, tools=tools,
                          params=jsonable(params), provider=str(provider), parent=parent)  # fmt: skip
            self._keep(run_id, d)
        except Exception as exc:
            rec.internal_error("langchain llm start", exc)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        d = self._pop(run_id)
        if d is None:
            return
        resp: ModelResponse | None = None
        attrs: dict[str, Any] = {}
        try:
            resp, attrs = _llm_result(response)
        except Exception as exc:
            rec.internal_error("langchain llm end", exc)
        end_llm(d, resp, None, attrs)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        d = self._pop(run_id)
        if d is not None:
            end_llm(d, None, error)

    # -- tools --

    def on_tool_start(self, serialized: dict[str, Any] | None, input_str: str, *, run_id: UUID,
                      parent_run_id: UUID | None = None, inputs: dict[str, Any] | None = None,
                      **kwargs: Any) -> None:  # fmt: skip
        try:
            parent = self._parent(parent_run_id) if parent_run_id else rec.current.get()
            if parent is None:
                return
            name = kwargs.get("name") or _name(serialized) or "tool"
            args = jsonable(inputs) if inputs is not None else {"input": input_str}
            tool = ObservedTool(str(name), args, parent)
            with self._lock:
                self._tools[run_id] = tool
            slots.open(str(run_id), tool)
        except Exception as exc:
            rec.internal_error("langchain tool start", exc)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        tool = self._end_tool(run_id)
        if tool is not None:
            try:
                result = jsonable(getattr(output, "content", output))
            except Exception as exc:
                rec.internal_error("langchain tool end", exc)
                result = None
            tool.end(result)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        tool = self._end_tool(run_id)
        if tool is not None:
            tool.end(None, error)

    def _end_tool(self, run_id: UUID) -> ObservedTool | None:
        slots.pop(str(run_id))
        with self._lock:
            return self._tools.pop(run_id, None)


def _name(serialized: dict[str, Any] | None) -> str | None:
    if not serialized:
        return None
    name = serialized.get("name")
    if name:
        return str(name)
    ids = serialized.get("id")
    return str(ids[-1]) if isinstance(ids, list) and ids else None


def _tool_def(tool: Any) -> dict[str, Any]:
    t = plain(tool)
    if isinstance(t, dict) and t.get("type") == "function" and isinstance(t.get("function"), dict):
        fn = t["function"]
        out = {"name": fn.get("name"), "description": fn.get("description"),
               "input_schema": fn.get("parameters")}  # fmt: skip
        return {k: v for k, v in out.items() if v is not None}
    return t if isinstance(t, dict) else {"name": str(t)}


def lc_message(message: Any) -> dict[str, Any]:
    """A LangChain message (``BaseMessage``) in agentdeck's chat form."""
    if not isinstance(message, _messages.BaseMessage):
        return {"role": "unknown", "content": jsonable(message)}
    role = _ROLES.get(message.type, message.type)
    if message.type == "chat":
        role = getattr(message, "role", role)
    out: dict[str, Any] = {"role": role, "content": jsonable(message.content)}
    calls = [{"id": c.get("id"), "name": c.get("name"), "arguments": c.get("args")}
             for c in getattr(message, "tool_calls", None) or ()]  # fmt: skip
    if calls:
        out["tool_calls"] = calls
    if getattr(message, "tool_call_id", None):
        out["tool_call_id"] = message.tool_call_id
    if message.name:
        out["name"] = message.name
    return out


def jsonable(value: Any) -> Any:
    """Chain inputs/outputs as plain data: messages mapped, containers walked, rest as is."""
    if isinstance(value, _messages.BaseMessage):
        return lc_message(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return plain(value)


def _llm_result(result: Any) -> tuple[ModelResponse, dict[str, Any]]:
    gen = result.generations[0][0] if result.generations and result.generations[0] else None
    message = getattr(gen, "message", None)
    if message is not None:
        msg = lc_message(message)
        msg["role"] = "assistant"
    else:
        msg = {"role": "assistant", "content": getattr(gen, "text", None)}
    meta = getattr(message, "response_metadata", None) or {}
    usage = _usage(getattr(message, "usage_metadata", None), result.llm_output or {})
    model = (
        meta.get("model_name") or meta.get("model") or (result.llm_output or {}).get("model_name")
    )
    attrs = {"llm.finish_reason": meta.get("finish_reason") or meta.get("stop_reason")}
    return ModelResponse(message=msg, model=model, usage=usage), attrs


def _usage(um: Any, llm_output: dict[str, Any]) -> TokenUsage | None:
    if um:
        idt, odt = um.get("input_token_details") or {}, um.get("output_token_details") or {}
        return TokenUsage(um.get("input_tokens") or 0, um.get("output_tokens") or 0,
                          idt.get("cache_read") or 0, odt.get("reasoning") or 0)  # fmt: skip
    tu = llm_output.get("token_usage") or llm_output.get("usage")
    if isinstance(tu, dict):
        return TokenUsage(tu.get("prompt_tokens") or tu.get("input_tokens") or 0,
                          tu.get("completion_tokens") or tu.get("output_tokens") or 0)  # fmt: skip
    return None


# -- policy on tools -------------------------------------------------------------------------


def guard_tool(tool: Any) -> Any:
    """A copy of LangChain tool ``tool`` whose calls go through agentdeck's guarded tool path.

    Before the tool's body runs: a ``tool`` span opens, args are validated against the running
    agent's pinned schema for the tool's name, and the guard configured with ``agentdeck.init``
    (the policy) decides; a denial raises ``PolicyDenied`` and the body never runs.
    """
    if not isinstance(tool, _tools.BaseTool):
        raise TypeError(f"guard_tool: expected a LangChain BaseTool, got {type(tool).__name__}")
    if getattr(type(tool), "__agentdeck_guarded__", False):
        return tool
    guarded = tool.model_copy()
    guarded.__class__ = _guarded_class(type(tool))
    return guarded


def guard_tools(tools: Sequence[Any]) -> list[Any]:
    """:func:`guard_tool` applied to each of ``tools``."""
    return [guard_tool(t) for t in tools]


_classes: dict[type, type] = {}


def _guarded_class(base: type) -> type:
    """A subclass of ``base`` whose ``_run``/``_arun`` wrap the base's in ``guarded_call``."""
    cls = _classes.get(base)
    if cls is not None:
        return cls
    base_run = base._run  # type: ignore[attr-defined]
    run_extra = _extra_params(base_run)

    def _run(self: Any, *args: Any, config: Any = None, run_manager: Any = None,
             **kwargs: Any) -> Any:  # fmt: skip
        extra = _pass(run_extra, config, run_manager)
        parent = slots.claim(str(run_manager.run_id)) if run_manager is not None else None
        return guarded_call(self.name, _args(args, kwargs),
                            lambda: base_run(self, *args, **extra, **kwargs), parent=parent)  # fmt: skip

    hints = {"config": _runnables.RunnableConfig,
             "run_manager": typing.Optional[_callbacks.CallbackManagerForToolRun]}  # noqa: UP045  # fmt: skip
    _run.__annotations__ = dict(hints)
    ns: dict[str, Any] = {"_run": _run, "__agentdeck_guarded__": True, "__module__": __name__}
    if base._arun is not _tools.BaseTool._arun:  # type: ignore[attr-defined]
        base_arun = base._arun  # type: ignore[attr-defined]
        arun_extra = _extra_params(base_arun)

        async def _arun(self: Any, *args: Any, config: Any = None, run_manager: Any = None,
                        **kwargs: Any) -> Any:  # fmt: skip
            extra = _pass(arun_extra, config, run_manager)
            parent = slots.claim(str(run_manager.run_id)) if run_manager is not None else None
            return await aguarded_call(self.name, _args(args, kwargs),
                                       lambda: base_arun(self, *args, **extra, **kwargs),
                                       parent=parent)  # fmt: skip

        _arun.__annotations__ = {
            "config": _runnables.RunnableConfig,
            "run_manager": typing.Optional[_callbacks.AsyncCallbackManagerForToolRun],  # noqa: UP045
        }
        ns["_arun"] = _arun
    cls = type(f"Guarded{base.__name__}", (base,), ns)
    _classes[base] = cls
    return cls


def _extra_params(fn: Any) -> tuple[str | None, bool]:
    """Which of (a RunnableConfig parameter, ``run_manager``) the base ``_run`` accepts."""
    params = inspect.signature(fn).parameters
    config_name = None
    try:
        hints = typing.get_type_hints(fn)
    except Exception:
        hints = {}
    for name, hint in hints.items():
        if hint is _runnables.RunnableConfig:
            config_name = name
    return config_name, "run_manager" in params


def _pass(extra: tuple[str | None, bool], config: Any, run_manager: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if extra[0] is not None:
        out[extra[0]] = config if config is not None else {}
    if extra[1]:
        out["run_manager"] = run_manager
    return out


def _args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    d = dict(kwargs)
    if args:
        d["input"] = args[0] if len(args) == 1 else list(args)
    return d
