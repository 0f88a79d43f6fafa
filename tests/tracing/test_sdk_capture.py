"""Values are captured on the caller's thread at call time: later changes never reach the trace.

The exporter here wakes only on ``flush`` (a long ``schedule_delay``), so every mutation below
happens before the worker thread builds the span: code that read the live objects then would
record the mutated values, deterministically.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_support import BOT, HELPER, spans_of, start

from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.guard import ToolCallInfo
from agentdeck.tracing.sdk.recorder import emit_linked_span
from agentdeck.tracing.sdk.scopes import Detached
from agentdeck.tracing.sdk.tools import guarded_call


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[sdk.InMemorySink]:
    """An SDK whose exporter thread builds spans only when flushed."""
    s = start(tmp_path, schedule_delay=600.0)
    yield s
    sdk.shutdown(timeout=5)


@sdk.tool
def set_prefs(user: str, prefs: dict[str, Any]) -> dict[str, Any]:
    return {"user": user, "saved": prefs}


@sdk.tool
async def aset_prefs(user: str, prefs: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"user": user, "saved": prefs}


def _one(spans: list[Span], kind: SpanKind, name: str | None = None) -> Span:
    (found,) = (s for s in spans if s.kind is kind and (name is None or s.name == name))
    return found


def test_tool_args_and_result_mutated_after_the_call(sink: sdk.InMemorySink) -> None:
    prefs = {"lang": "en", "tags": ["a"]}
    with sdk.run(agent=BOT, input="q") as run:
        out = set_prefs("ann", prefs)
        prefs["lang"] = "fr"
        prefs["tags"].append("b")  # type: ignore[attr-defined]
        out["user"] = "bob"
        out["extra"] = {"x": 1}
    tool = _one(spans_of(sink, run.trace_id), SpanKind.TOOL)
    assert tool.inputs == {"args": {"user": "ann", "prefs": {"lang": "en", "tags": ["a"]}}}
    # The result is the same nested dict the args held: it too is recorded as returned.
    assert tool.outputs == {"result": {"user": "ann", "saved": {"lang": "en", "tags": ["a"]}}}


def test_flat_args_and_result_mutated_after_the_call(sink: sdk.InMemorySink) -> None:
    @sdk.tool
    def tag(labels: list[str]) -> dict[str, Any]:
        return {"labels": labels, "n": len(labels)}

    labels = ["x"]
    with sdk.run(agent=BOT, input="q") as run:
        res = tag(labels)
        labels.append("y")
        res["n"] = 99
    tool = _one(spans_of(sink, run.trace_id), SpanKind.TOOL)
    assert tool.inputs == {"args": {"labels": ["x"]}}
    assert tool.outputs == {"result": {"labels": ["x"], "n": 1}}


def test_async_tool_args_and_result_mutated_after_the_call(sink: sdk.InMemorySink) -> None:
    prefs = {"lang": "en"}

    async def agent() -> str:
        async with sdk.run(agent=BOT, input="q") as run:
            out = await aset_prefs("ann", prefs)
            prefs["lang"] = "fr"
            out["saved"]["lang"] = "de"
        return run.trace_id

    trace_id = asyncio.run(agent())
    tool = _one(spans_of(sink, trace_id), SpanKind.TOOL)
    assert tool.inputs == {"args": {"user": "ann", "prefs": {"lang": "en"}}}
    assert tool.outputs == {"result": {"user": "ann", "saved": {"lang": "en"}}}


def test_guarded_call_args_and_result_mutated_after_the_call(sink: sdk.InMemorySink) -> None:
    args = {"order": {"id": 7, "items": [1, 2]}}
    result = {"ok": {"refund": 10}}
    with sdk.run(agent=BOT, input="q") as run:
        got = guarded_call("refund", args, lambda: result)
        args["order"]["id"] = 8  # type: ignore[index]
        got["ok"]["refund"] = 900
    tool = _one(spans_of(sink, run.trace_id), SpanKind.TOOL)
    assert tool.inputs == {"args": {"order": {"id": 7, "items": [1, 2]}}}
    assert tool.outputs == {"result": {"ok": {"refund": 10}}}


def test_llm_messages_tools_params_and_response_mutated_after_the_call(
    sink: sdk.InMemorySink,
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "hello"}]},
    ]
    tools: list[dict[str, Any]] = [{"name": "weather", "parameters": {"type": "object"}}]
    params: dict[str, Any] = {"temperature": 0.1, "response_format": {"type": "json_object"}}
    with sdk.run(agent=BOT, input="q") as run:
        with sdk.llm(messages=messages, tools=tools, params=params, model="m") as call:
            reply = {"role": "assistant", "content": "hi", "annotations": [{"k": "v"}]}
            call.record(ModelResponse(message=reply, model="m"))
            reply["annotations"][0]["k"] = "changed in the block"  # type: ignore[index]
        messages.append(reply)
        messages[1]["content"][0]["text"] = "edited"
        messages[0]["content"] = "be verbose"
        tools[0]["parameters"]["type"] = "string"
        params["response_format"]["type"] = "text"
        params["temperature"] = 1.0
    span = _one(spans_of(sink, run.trace_id), SpanKind.LLM)
    assert span.inputs == {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello"}]},
        ],
        "tools": [{"name": "weather", "parameters": {"type": "object"}}],
    }
    assert span.attributes["llm.params"] == {
        "temperature": 0.1,
        "response_format": {"type": "json_object"},
    }
    assert span.outputs == {
        "message": {"role": "assistant", "content": "hi", "annotations": [{"k": "v"}]}
    }


def test_detached_llm_late_request_is_captured_when_given(sink: sdk.InMemorySink) -> None:
    messages: list[dict[str, Any]] = [{"role": "user", "content": {"q": "late"}}]
    with sdk.run(agent=BOT, input="q") as run:
        block = sdk.llm(messages=[])
        d = Detached(block)
        d.start()
        block.set_request(messages=messages, params={"stop": {"s": ["x"]}})
        messages[0]["content"]["q"] = "changed"
        d.end()
    span = _one(spans_of(sink, run.trace_id), SpanKind.LLM)
    assert span.inputs["messages"] == [{"role": "user", "content": {"q": "late"}}]  # type: ignore[index,call-overload]
    assert span.attributes["llm.params"] == {"stop": {"s": ["x"]}}


def test_run_input_output_and_attributes_mutated_after_the_run(sink: sdk.InMemorySink) -> None:
    question = {"q": {"text": "refund?"}}
    answer = {"reply": {"text": "done"}}
    tags = {"team": {"name": "billing"}}
    with sdk.run(agent=BOT, input=question, attributes={"tags": tags}) as run:
        run.set_output(answer)
        answer["reply"]["text"] = "changed in the block"
    question["q"]["text"] = "changed"
    answer["reply"]["text"] = "changed"
    tags["team"]["name"] = "changed"
    assert run.output is answer  # the handle still gives the agent its own object
    root = _one(spans_of(sink, run.trace_id), SpanKind.AGENT)
    assert root.inputs == {"input": {"q": {"text": "refund?"}}}
    assert root.outputs == {"output": {"reply": {"text": "done"}}}
    assert root.attributes["tags"] == {"team": {"name": "billing"}}
    rec = sink.run(run.trace_id)
    assert rec is not None
    assert rec.input == {"q": {"text": "refund?"}}
    assert rec.output == {"reply": {"text": "done"}}
    assert rec.attributes["tags"] == {"team": {"name": "billing"}}


def test_span_inputs_attributes_and_output_mutated_after_they_are_set(
    sink: sdk.InMemorySink,
) -> None:
    query = {"q": ["refund policy"]}
    cart = {"items": [{"sku": "A", "qty": 1}]}
    docs = [{"id": 1, "text": "30 days"}]
    with sdk.run(agent=BOT, input="q") as run:
        with sdk.span("retrieve", kind="retrieval", inputs=query,
                      attributes={"filters": {"lang": "en"}}) as s:  # fmt: skip
            s.set_attribute("cart", cart)
            s.set_output(docs)
            cart["items"].append({"sku": "B", "qty": 2})
            docs[0]["text"] = "changed in the block"
        query["q"].append("changed")
        docs.append({"id": 2, "text": "changed"})
    span = _one(spans_of(sink, run.trace_id), SpanKind.RETRIEVAL)
    assert span.inputs == {"q": ["refund policy"]}
    assert span.attributes["cart"] == {"items": [{"sku": "A", "qty": 1}]}
    assert span.attributes["filters"] == {"lang": "en"}
    assert span.outputs == [{"id": 1, "text": "30 days"}]


def test_tool_span_attribute_set_inside_the_tool_then_mutated(sink: sdk.InMemorySink) -> None:
    seen: dict[str, Any] = {"rows": [1]}

    @sdk.tool
    def query() -> int:
        current = sdk.current_span()
        assert current is not None
        current.set_attribute("db.seen", seen)
        return 1

    with sdk.run(agent=BOT, input="q") as run:
        query()
        seen["rows"].append(2)
    tool = _one(spans_of(sink, run.trace_id), SpanKind.TOOL)
    assert tool.attributes["db.seen"] == {"rows": [1]}


def test_handoff_payload_mutated_after_the_handoff(sink: sdk.InMemorySink) -> None:
    payload = {"ticket": {"id": 7, "amount": 40}}
    with sdk.run(agent=BOT, input="q") as run:
        with sdk.handoff(to=HELPER, input=payload, reason="billing") as h:
            h.set_output({"refunded": {"amount": 40}})
        payload["ticket"]["amount"] = 900
    spans = spans_of(sink, run.trace_id)
    hand = _one(spans, SpanKind.HANDOFF)
    inner = _one(spans, SpanKind.AGENT, HELPER.name)
    assert hand.inputs == {"input": {"ticket": {"id": 7, "amount": 40}}}
    assert hand.outputs == {"refunded": {"amount": 40}}
    assert inner.inputs == {"input": {"ticket": {"id": 7, "amount": 40}}}


def test_linked_span_values_are_captured_when_emitted(sink: sdk.InMemorySink) -> None:
    decision = {"rules": ["cap"], "detail": {"limit": 500}}

    @sdk.tool
    def refund(amount: int) -> int:
        h = sdk.current_span()
        assert h is not None
        call = ToolCallInfo(tool="refund", tool_version=None, tool_spec=None, args={},
                            agent=None, env=None, run=None, step=0, elapsed_s=0.0,  # type: ignore[arg-type]
                            trace_id=h.trace_id, span_id=h.span_id)  # fmt: skip
        emit_linked_span(call, name="policy", start_ns=1, end_ns=2, outputs=decision,
                         attributes={"policy.detail": decision["detail"]})  # fmt: skip
        return amount

    with sdk.run(agent=BOT, input="q") as run:
        refund(10)
        decision["detail"]["limit"] = 5000  # type: ignore[index]
    pol = _one(spans_of(sink, run.trace_id), SpanKind.POLICY)
    assert pol.outputs == {"rules": ["cap"], "detail": {"limit": 500}}
    assert pol.attributes["policy.detail"] == {"limit": 500}


class Counter:
    """Not JSON-able: recorded as its repr, as it was at call time."""

    def __init__(self) -> None:
        self.n = 1

    def __repr__(self) -> str:
        return f"Counter(n={self.n})"


class Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


def test_unserializable_values_are_captured_as_they_were_and_never_raise(
    sink: sdk.InMemorySink,
) -> None:
    @sdk.tool
    def use(thing: Any, other: Any) -> Any:
        return thing

    counter = Counter()
    with sdk.run(agent=BOT, input="q") as run:
        assert use(counter, Hostile()) is counter  # the call is unaffected
        counter.n = 2
        with sdk.span("odd") as s:
            s.set_attribute("bad", Hostile())
            s.set_output({"nested": Hostile()})
    spans = spans_of(sink, run.trace_id)
    tool = _one(spans, SpanKind.TOOL)
    assert tool.outputs == {"result": "Counter(n=1)"}
    marker = "<not captured: Hostile: RuntimeError: no repr for you>"
    assert tool.inputs == {"args": {"thing": "Counter(n=1)", "other": marker}}
    odd = _one(spans, SpanKind.CUSTOM, "odd")
    assert odd.attributes["bad"] == marker
    assert odd.outputs == {"nested": marker}


def test_nothing_is_captured_when_not_recording() -> None:
    sdk.shutdown()
    seen: list[int] = []

    class Watched:
        def __repr__(self) -> str:
            seen.append(1)
            return "Watched()"

    @sdk.tool
    def use(thing: Any) -> Any:
        return thing

    with sdk.run(agent="support-bot@production", input=Watched()) as run:
        run.set_output(Watched())
        run.set_attribute("w", Watched())
        use(Watched())
        with sdk.llm(messages=[{"role": "user", "content": Watched()}]) as call:
            call.record(message={"role": "assistant", "content": Watched()})
    assert not run.recording and seen == []
