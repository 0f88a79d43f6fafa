"""``@tool``: the hot path. Records args, result, error and latency of sync and async tools.

Per call, on the agent's thread: two clock reads, a contextvar get/set/reset, the args dict,
the cached schema check, a random span id, the capture of args and result
(:func:`agentdeck.tracing.sdk.wire.capture`: a copy of a flat dict, JSON bytes for nested values, so
that later changes by the agent never reach the trace), and one deque append. No lock, no I/O.
The span itself is built in the exporter's thread (:meth:`ToolCallSpan.to_span`).

Before the tool runs: args are validated against the running agent's pinned input schema (or
the decorator's ``input_schema`` when the agent pins none); then the guard (policy) decides;
then an interceptor (replay) may serve the result. Invalid args are recorded as such and, with
``invalid_args="raise"``, stop the call with :class:`ToolArgumentsInvalid`. The tool's own
exceptions are recorded and re-raised unchanged. Outside a run (or before ``init``) the wrapper
calls straight through.

:func:`guarded_call` / :func:`aguarded_call` run any callable through that same path (span,
validation, guard, interceptor) for tools that are not decorated: framework integrations route
a framework's tool calls through them, so policy applies there with no policy-specific code.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from contextvars import Token
from typing import Any, TypeVar, overload

from agentdeck.core.errors import PolicyDenied
from agentdeck.core.trace.model import Span, SpanKind, SpanLink, SpanStatus
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.guard import (
    CallOutcome,
    Intercepted,
    ToolCallInfo,
    ToolCallRecord,
    current_interceptor,
)
from agentdeck.tracing.sdk.policy_results import policy_result
from agentdeck.tracing.sdk.recorder import SpanHandle, time_ns
from agentdeck.tracing.sdk.validation import ToolArgumentsInvalid, check, validator_for_schema
from agentdeck.tracing.sdk.wire import capture

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")
_EMPTY: dict[str, Any] = {}


class _ToolMeta:
    """What the decorator learned once: the name, how to name positional args, the fallback schema."""

    __slots__ = ("bind", "defaults", "name", "names", "skip_first", "validator", "version")

    def __init__(self, fn: Callable[..., Any], name: str | None, schema: Mapping[str, Any] | None,
                 version: str | None) -> None:  # fmt: skip
        self.name = name or fn.__name__
        self.version = version
        self.validator = validator_for_schema(schema) if schema is not None else None
        sig = inspect.signature(fn)
        params = list(sig.parameters.values())
        simple = all(p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) for p in params)
        self.skip_first = bool(params) and params[0].name in ("self", "cls")
        names = [p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
        self.names = tuple(names)
        self.defaults = {p.name: p.default for p in params if p.default is not p.empty}
        self.bind = None if simple else sig

    @classmethod
    def named(cls, name: str, schema: Mapping[str, Any] | None, version: str | None) -> _ToolMeta:
        """Metadata for a tool known only by name (its args arrive as a dict): see guarded_call."""
        meta = cls.__new__(cls)
        meta.name, meta.version = name, version
        meta.validator = validator_for_schema(schema) if schema is not None else None
        meta.skip_first, meta.names, meta.defaults, meta.bind = False, (), {}, None
        return meta

    def args_dict(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.bind is None:
            if self.defaults:
                d = dict(self.defaults)
                d.update(zip(self.names, args, strict=False))
            else:
                d = dict(zip(self.names, args, strict=False)) if args else {}
            if kwargs:
                d.update(kwargs)
        else:
            b = self.bind.bind_partial(*args, **kwargs)
            b.apply_defaults()
            d = dict(b.arguments)
        if self.skip_first and d:
            d.pop(self.names[0] if self.names else "self", None)
        return d


class ToolCallSpan(SpanHandle):
    """The handle of one tool call: its state while it runs, then its finished data.

    Submitted to the exporter as is; :meth:`to_span` builds the Span in the exporter's thread.
    One object per call keeps allocations (and so garbage-collector work) low.
    """

    __slots__ = ("args", "args_data", "cfg", "end", "err", "errors", "etype", "flags", "meta",
                 "parent", "parent_id", "result", "seq", "start", "token", "validated",
                 "version")  # fmt: skip

    args: dict[str, Any]  # the live arguments (what the guard and the run history see)
    args_data: Any  # the arguments captured at the call
    cfg: rec.Config
    end: int
    err: str | None
    errors: list[str] | None
    etype: str | None
    flags: dict[str, Any] | None
    meta: _ToolMeta
    parent: SpanHandle | None
    parent_id: str
    result: Any  # captured at return
    seq: int
    start: int
    token: Token[SpanHandle | None]
    validated: bool
    version: str | None

    def to_span(self) -> Span:
        err = self.err
        attrs: dict[str, Any] = {"tool.name": self.name}
        if self.version is not None:
            attrs["tool.version"] = self.version
        if self.validated:
            attrs["tool.args_valid"] = self.errors is None
            if self.errors:
                attrs["tool.args_errors"] = self.errors
        if self.etype is not None:
            attrs["error.type"] = self.etype
        if self.flags:
            attrs.update(self.flags)
        if self.attrs:
            attrs.update(self.attrs)  # captured when set
        # Positional: the exporter builds one of these per tool call (field order of Span).
        return Span(
            self.trace_id,
            self.span_id,
            self.parent_id,
            self.name,
            SpanKind.TOOL,
            self.start,
            self.end,
            self.seq,
            SpanStatus.OK if err is None else SpanStatus.ERROR,
            err,
            {"args": self.args_data},  # captured: JSON data or Frozen bytes, kept as they are
            {"result": self.result} if err is None else None,
            attrs,
            tuple(self.links) if self.links else (),
        )


def _begin(
    meta: _ToolMeta, args: tuple[Any, ...], kwargs: dict[str, Any],
    parent: SpanHandle | None = None,
) -> tuple[ToolCallSpan | None, Intercepted | None]:  # fmt: skip
    """Open the tool span (under ``parent``, default the current span).

    Returns (None, None) when not recording; raises only on purpose.
    """
    cfg = rec.config
    if cfg is None:
        return None, None
    if parent is None:
        parent = rec.current.get()
    if parent is None or parent.scope is None:
        return None, None
    try:
        scope = parent.scope
        run_rec = scope.run
        c = ToolCallSpan(run_rec.trace_id, rec.new_span_id(), meta.name, SpanKind.TOOL, scope)
        c.meta, c.cfg, c.parent, c.parent_id = meta, cfg, parent, parent.span_id
        c.args = argsd = meta.args_dict(args, kwargs)
        c.args_data = capture(argsd, owned=True)  # now: the agent may change them after the call
        entry = scope.tools.get(meta.name)
        if entry is None:
            validator, c.version = meta.validator, meta.version
        else:
            validator = entry.validator or meta.validator
            c.version = entry.version or meta.version
        c.validated = validator is not None
        c.errors = check(validator, argsd) if validator is not None else None
        c.flags = c.etype = c.err = c.result = None
        if run_rec.pending_calls:  # the last LLM response asked for this tool: link it
            pend = run_rec.pending_calls.get(meta.name)
            if pend:
                llm_sid, call_id = pend.pop(0)
                c.links = [SpanLink(run_rec.trace_id, llm_sid)]
                c.flags = {"tool.call_id": call_id}
        c.seq = next(run_rec.seq)
        guard, icpt = cfg.guard, current_interceptor.get()
        c.start = time_ns()
    except Exception as exc:
        rec.internal_error("tool", exc)
        return None, None
    if c.errors is not None and cfg.raise_invalid_args:
        err = ToolArgumentsInvalid(meta.name, c.errors)
        _end(c, None, err, CallOutcome.ERROR)
        raise err
    if guard is None and icpt is None:
        c.token = rec.current.set(c)
        return c, None
    info = ToolCallInfo(
        tool=meta.name, tool_version=c.version, tool_spec=entry.spec if entry else None,
        args=argsd, agent=scope.agent, env=scope.env, run=run_rec.state,
        step=next(run_rec.tool_steps), elapsed_s=time.monotonic() - run_rec.state.started_mono,
        trace_id=run_rec.trace_id, span_id=c.span_id, agent_error=scope.resolve_error,
    )  # fmt: skip
    if guard is not None:
        try:
            guard.check(info)
        except PolicyDenied as exc:
            c.flags = {**(c.flags or {}), "tool.denied": True, "policy.rules": list(exc.rules)}
            _end(c, None, exc, CallOutcome.DENIED)
            raise
        except Exception as exc:  # a broken guard fails closed
            denied = PolicyDenied(meta.name, [], f"policy guard failed: {rec.describe_error(exc)}")
            c.flags = {**(c.flags or {}), "tool.denied": True}
            _end(c, None, denied, CallOutcome.DENIED)
            raise denied from exc
    if icpt is not None:
        try:
            served = icpt.intercept(info)
        except BaseException as exc:  # a recorded error, served
            c.flags = {**(c.flags or {}), "tool.intercepted": True}
            _end(c, None, exc, CallOutcome.ERROR)
            raise
        if served is not None:
            c.flags = {**(c.flags or {}), "tool.intercepted": True}
            _end(c, served.result, None, CallOutcome.OK)
            return None, served
    c.token = rec.current.set(c)
    return c, None


def _end(
    c: ToolCallSpan, result: Any, exc: BaseException | None, outcome: CallOutcome | None = None
) -> None:
    """Close the tool span and queue it. Never raises."""
    try:
        c.end = time_ns()
        if exc is not None:
            c.err, c.etype = rec.describe_error(exc), type(exc).__qualname__
        else:
            c.result = capture(result)
        cfg = c.cfg
        run_rec = c.scope.run  # type: ignore[union-attr]
        if cfg.guard is not None:
            oc = outcome or (CallOutcome.OK if exc is None else CallOutcome.ERROR)
            res = policy_result(c.result, cfg.redact_value) if exc is None else None
            run_rec.state.record(ToolCallRecord(c.name, c.args, oc, c.span_id, res))
        run_rec.fresh_results.append(c.span_id)
        cfg.exporter.submit(c)
    except Exception as e:
        rec.internal_error("tool end", e)


@overload
def tool(fn: F) -> F: ...
@overload
def tool(
    fn: None = None, *, name: str | None = None, input_schema: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> Callable[[F], F]: ...  # fmt: skip
def tool(
    fn: F | None = None, *, name: str | None = None, input_schema: Mapping[str, Any] | None = None,
    version: str | None = None,
) -> F | Callable[[F], F]:  # fmt: skip
    """Record every call of a sync or async tool: ``@tool`` or ``@tool(name=..., input_schema=...)``.

    ``name`` defaults to the function's name and must match the tool's name in the agent spec for
    the pinned schema to apply; ``input_schema`` is used when the running agent pins none.
    """
    if fn is None:
        return functools.partial(_decorate, name=name, input_schema=input_schema, version=version)
    return _decorate(fn, name=name, input_schema=input_schema, version=version)


def _decorate(
    fn: F, *, name: str | None, input_schema: Mapping[str, Any] | None, version: str | None
) -> F:
    meta = _ToolMeta(fn, name, input_schema, version)
    if inspect.iscoroutinefunction(fn):
        afn: Callable[..., Any] = fn

        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            c, served = _begin(meta, args, kwargs)
            if c is None:
                return served.result if served is not None else await afn(*args, **kwargs)
            try:
                result = await afn(*args, **kwargs)
            except BaseException as exc:
                rec.reset(c.token, c.parent)
                _end(c, None, exc)
                raise
            rec.reset(c.token, c.parent)
            _end(c, result, None)
            return result

        awrapper.__agentdeck_tool__ = meta.name  # type: ignore[attr-defined]
        return awrapper  # type: ignore[return-value]

    sfn: Callable[..., Any] = fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        c, served = _begin(meta, args, kwargs)
        if c is None:
            return served.result if served is not None else sfn(*args, **kwargs)
        try:
            result = sfn(*args, **kwargs)
        except BaseException as exc:
            rec.current.reset(c.token)
            _end(c, None, exc)
            raise
        rec.current.reset(c.token)
        _end(c, result, None)
        return result

    wrapper.__agentdeck_tool__ = meta.name  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


_named: dict[tuple[str, str | None], _ToolMeta] = {}


def _meta_for(name: str, input_schema: Mapping[str, Any] | None, version: str | None) -> _ToolMeta:
    if input_schema is not None:
        return _ToolMeta.named(name, input_schema, version)
    meta = _named.get((name, version))
    if meta is None:
        meta = _named[(name, version)] = _ToolMeta.named(name, None, version)
    return meta


def guarded_call(
    name: str, args: Mapping[str, Any], fn: Callable[[], R], *,
    input_schema: Mapping[str, Any] | None = None, version: str | None = None,
    parent: SpanHandle | None = None,
) -> R:  # fmt: skip
    """Run ``fn()`` as the tool call ``name(**args)``, exactly as a ``@tool`` function would run.

    The call gets a ``tool`` span (under ``parent``, default the current span), its ``args`` are
    validated against the running agent's pinned schema for ``name`` (or ``input_schema``), the
    configured guard decides it (a denial raises ``PolicyDenied`` and ``fn`` does not run), and
    an active interceptor may serve it. ``fn`` takes no arguments: close over the real call.
    Outside a run (or before ``init``) it just returns ``fn()``.
    """
    c, served = _begin(_meta_for(name, input_schema, version), (), dict(args), parent)
    if c is None:
        return served.result if served is not None else fn()
    try:
        result = fn()
    except BaseException as exc:
        rec.reset(c.token, c.parent)
        _end(c, None, exc)
        raise
    rec.reset(c.token, c.parent)
    _end(c, result, None)
    return result


async def aguarded_call(
    name: str, args: Mapping[str, Any], fn: Callable[[], Awaitable[R]], *,
    input_schema: Mapping[str, Any] | None = None, version: str | None = None,
    parent: SpanHandle | None = None,
) -> R:  # fmt: skip
    """The async form of :func:`guarded_call`: ``fn()`` returns an awaitable."""
    c, served = _begin(_meta_for(name, input_schema, version), (), dict(args), parent)
    if c is None:
        return served.result if served is not None else await fn()
    try:
        result = await fn()
    except BaseException as exc:
        rec.reset(c.token, c.parent)
        _end(c, None, exc)
        raise
    rec.reset(c.token, c.parent)
    _end(c, result, None)
    return result
