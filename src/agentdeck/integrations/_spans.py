"""What every integration shares: detached spans, observed tool calls, conversions, imports.

Frameworks report steps as start/end callbacks (LangChain, the Agents SDK) or hand back
streams the caller drains later (OpenAI, Anthropic; the stream proxies are in
:mod:`agentdeck.integrations._streams`). Neither fits a ``with`` block, so spans
are recorded through the tracing layer's public :class:`~agentdeck.tracing.sdk.scopes.Detached`:
opened now and finished later (exactly once) *without* becoming the current span, so the
caller's context is never changed behind its back. It reuses the SDK's own blocks (``run``,
``llm``, ``span``), so a detached ``llm`` span gets the same automatic data-flow links (to the
tool results it consumed, and from the tool calls it asked for) as ``agentdeck.llm``.

Everything here is telemetry: it never raises into the caller (errors are counted by
:func:`agentdeck.tracing.sdk.recorder.internal_error`).
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from agentdeck.core.trace.chat_format import loads_args as loads_args
from agentdeck.core.trace.model import SpanKind, SpanLink
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.tracing.sdk import recorder as rec
from agentdeck.tracing.sdk.recorder import SpanHandle
from agentdeck.tracing.sdk.scopes import Detached, LlmCall, llm, span


def require(module: str, extra: str, integration: str) -> ModuleType:
    """Import ``module`` or raise an ImportError naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"agentdeck.integrations.{integration} needs the {module.split('.')[0]!r} package: "
            f"pip install 'agentdeck[{extra}]'"
        ) from exc


def start_llm(
    *, messages: list[dict[str, Any]], model: str | None, tools: list[dict[str, Any]],
    params: dict[str, Any], provider: str, parent: SpanHandle | None = None,
) -> Detached:  # fmt: skip
    """A detached ``llm`` span, started (a no-op one when not recording)."""
    d = Detached(llm(messages=messages, model=model, tools=tools, params=params,
                     provider=provider))  # fmt: skip
    d.start(parent)
    return d


def end_llm(d: Detached, response: ModelResponse | None, exc: BaseException | None = None,
            attributes: Mapping[str, Any] | None = None) -> None:  # fmt: skip
    """Record ``response`` (and extra attributes) on a detached ``llm`` span and finish it."""
    h = d.handle
    if isinstance(h, LlmCall):
        if response is not None:
            h.record(response)
        for k, v in (attributes or {}).items():
            if v is not None:
                h.set_attribute(k, v)
    d.end(exc)


def set_llm_request(
    d: Detached, *, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None,
    model: str | None, params: dict[str, Any] | None,
) -> None:  # fmt: skip
    """Fill in the request of a detached ``llm`` span opened before the framework knew it.

    (The Agents SDK fills a generation span's input only when the call is done.)
    """
    block = d.block
    if isinstance(block, llm) and d.handle is not None:
        block.set_request(messages=messages, tools=tools, model=model, params=params)


class FrameworkError(Exception):
    """An error a framework reported on one of its spans (recorded as the span's error)."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.data = data


class ObservedTool:
    """A tool call a framework reported (start, then end) and no guarded wrapper claimed.

    Recorded like a ``@tool`` span: ``inputs={"args": ...}``, ``outputs={"result": ...}``,
    ``tool.name``, and linked from the LLM span that asked for it; the next LLM call links to it.
    """

    __slots__ = ("claimed", "detached", "name", "parent")

    def __init__(self, name: str, args: Any, parent: SpanHandle | None) -> None:
        self.name, self.parent, self.claimed = name, parent, False
        self.detached = Detached(
            span(name, SpanKind.TOOL, inputs={"args": args}, attributes={"tool.name": name})
        )
        self.detached.start(parent)

    def set_args(self, args: Any) -> None:
        """Replace the recorded args (for frameworks that report them after the start)."""
        block = self.detached.block
        if isinstance(block, span):
            block.set_inputs({"args": args})

    def end(self, result: Any = None, exc: BaseException | None = None) -> None:
        h = self.detached.handle
        if self.claimed or h is None:
            return
        try:
            h.output = {"result": result} if exc is None else None
            run_rec = h.scope.run if h.scope is not None else None
            if run_rec is not None:
                pend = run_rec.pending_calls.get(self.name)
                if pend:
                    llm_sid, call_id = pend.pop(0)
                    h.link(SpanLink(run_rec.trace_id, llm_sid))
                    h.set_attribute("tool.call_id", call_id)
                run_rec.fresh_results.append(h.span_id)
        except Exception as err:
            rec.internal_error("observed tool", err)
        self.detached.end(exc)


class ToolSlots:
    """Tool calls in flight, by the framework's id: observers open them, guarded wrappers claim.

    When a framework tool is wrapped for policy, the wrapper records the tool span itself
    (through ``guarded_call``) and claims the observer's slot, so the call is recorded once,
    under the parent the observer knew.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[str, ObservedTool] = {}

    def open(self, key: str, tool: ObservedTool) -> None:
        with self._lock:
            self._slots[key] = tool

    def claim(self, key: str) -> SpanHandle | None:
        """Mark the slot as recorded by a guarded wrapper; its parent span (None if unknown)."""
        with self._lock:
            slot = self._slots.get(key)
        if slot is None:
            return None
        slot.claimed = True
        return slot.parent

    def pop(self, key: str) -> ObservedTool | None:
        with self._lock:
            return self._slots.pop(key, None)


slots = ToolSlots()


# -- small conversions ----------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A provider object (pydantic model) as plain data; anything else as is.

    A class (the ``response_format`` / ``text_format`` / ``output_format`` of structured
    outputs) becomes ``{"type": "json_schema", "name", "schema"}``.
    """
    if isinstance(value, type):
        return format_type(value)
    dump = getattr(value, "model_dump", None)
    if not callable(dump):
        return value
    # warnings=False: generic parsed models (``ParsedChatCompletionMessage[T]``) make pydantic
    # warn on dump, and telemetry must not warn in the caller's name.
    for kwargs in ({"exclude_none": True, "mode": "json", "warnings": False},
                   {"exclude_none": True, "mode": "json"}, {}):  # fmt: skip
        try:
            return dump(**kwargs)
        except Exception:
            continue
    return value


def format_type(cls: type) -> dict[str, Any]:
    """A structured-output type as recorded: its name, and its JSON schema when it has one."""
    out: dict[str, Any] = {"type": "json_schema", "name": cls.__name__}
    schema = getattr(cls, "model_json_schema", None)
    if callable(schema):
        with contextlib.suppress(Exception):  # not every type has a JSON schema
            out["schema"] = schema()
    return out


def given(value: Any) -> bool:
    """False for the SDKs' "not given" sentinels (``NOT_GIVEN``, ``omit``)."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def call_params(kwargs: Mapping[str, Any], skip: frozenset[str]) -> dict[str, Any]:
    """The request's parameters worth recording (sentinels, transport options and ``skip`` out)."""
    transport = {"extra_headers", "extra_query", "extra_body", "timeout"}
    return {k: plain(v) for k, v in kwargs.items()
            if k not in skip and k not in transport and given(v)}  # fmt: skip
