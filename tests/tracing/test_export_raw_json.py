"""Captured JSON bytes travel through the exporter as they are: a ``raw_json`` sink receives
them unparsed, limits and redaction still apply to them, any other sink gets JSON data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from redaction_corpus import NEGATIVE, NESTED_SECRET_KEYS, POSITIVE, SUPPORT_RESULT
from sdk_support import BOT, start

from agentdeck.core.trace.model import Run, Span, SpanKind
from agentdeck.core.trace.raw_json import Frozen, thaw
from agentdeck.tracing.sdk import api as sdk
from agentdeck.tracing.sdk.limits import TRUNCATED_ATTR, SpanLimits
from agentdeck.tracing.sdk.redaction import BatchRedactor, RedactionConfig
from agentdeck.tracing.sdk.wire import batch_from_bytes, batch_to_bytes


class RawSink(sdk.InMemorySink):
    """Takes payloads as captured (like the HTTP sink)."""

    raw_json = True


@sdk.tool
def place(user: str, prefs: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"order": "ord-1", "lines": len(items), "ship": {"days": 2}}


def _tool_spans(sink: sdk.InMemorySink, trace_id: str) -> list[Span]:
    assert sdk.flush(10)
    return [s for s in sink.trace(trace_id) if s.kind is SpanKind.TOOL]


def _frozen_anywhere(value: Any) -> bool:
    if type(value) is Frozen:
        return True
    if isinstance(value, dict):
        return any(_frozen_anywhere(v) for v in value.values())
    if isinstance(value, list):
        return any(_frozen_anywhere(v) for v in value)
    return False


def test_a_raw_json_sink_receives_the_bytes_captured_at_call_time(tmp_path: Path) -> None:
    sink = start(tmp_path, sink=RawSink())
    prefs = {"lang": "en", "notify": {"email": True}}
    items = [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}]
    try:
        with sdk.run(agent=BOT, input="x") as run:
            place("ann", prefs, items)
            prefs["notify"]["email"] = False  # changed after the call: not in the trace
            items.append({"sku": "C", "qty": 3})
        (span,) = _tool_spans(sink, run.trace_id)
    finally:
        sdk.shutdown(5)
    args, result = span.inputs["args"], span.outputs["result"]
    assert type(args) is Frozen and type(result) is Frozen  # not parsed on the way
    assert orjson.loads(args.data) == {
        "user": "ann",
        "prefs": {"lang": "en", "notify": {"email": True}},
        "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}],
    }
    assert orjson.loads(result.data) == {"order": "ord-1", "lines": 2, "ship": {"days": 2}}
    # the wire format embeds them as JSON, read back as data
    _, back = batch_from_bytes(batch_to_bytes([], [span]))
    assert back[0].inputs["args"]["prefs"]["notify"] == {"email": True}


def test_any_other_sink_receives_json_data_only(tmp_path: Path) -> None:
    sink = start(tmp_path)
    try:
        with sdk.run(agent=BOT, input="x") as run:
            place("ann", {"a": {"b": 1}}, [{"sku": "A"}])
            with sdk.span("step", attributes={"cfg": {"deep": [1, {"x": 2}]}}):
                pass
        assert sdk.flush(10)
        spans = sink.trace(run.trace_id)
    finally:
        sdk.shutdown(5)
    assert spans and not any(
        _frozen_anywhere(v) for s in spans for v in (s.inputs, s.outputs, s.attributes)
    )
    tool = next(s for s in spans if s.kind is SpanKind.TOOL)
    assert tool.inputs["args"]["prefs"] == {"a": {"b": 1}}
    step = next(s for s in spans if s.name == "step")
    assert step.attributes["cfg"] == {"deep": [1, {"x": 2}]}


def test_a_secret_inside_captured_bytes_is_masked_before_a_raw_sink(tmp_path: Path) -> None:
    sink = start(tmp_path, sink=RawSink())
    try:
        with sdk.run(agent=BOT, input="x") as run:
            for i in range(20):  # clean calls around the one with a secret, in one batch
                place(f"u{i}", {"lang": "en"}, [{"sku": "A"}])
            place("bob", {"db": {"password": "hunter2-xyz"}}, [{"sku": "A"}])
        spans = _tool_spans(sink, run.trace_id)
    finally:
        sdk.shutdown(5)
    texts = [batch_to_bytes([], [s]) for s in spans]
    assert len(spans) == 21
    assert not any(b"hunter2-xyz" in t for t in texts)
    secret = next(s for s in spans if b"[REDACTED:key]" in batch_to_bytes([], [s]))
    assert thaw(secret.inputs)["args"]["prefs"]["db"]["password"] == "[REDACTED:key]"
    clean = [s for s in spans if s is not secret]
    assert all(type(s.inputs["args"]) is Frozen for s in clean)  # left as captured


def test_limits_cut_captured_bytes_with_a_marker(tmp_path: Path) -> None:
    sink = start(tmp_path, sink=RawSink(), limits=SpanLimits(max_value_chars=1000))
    try:
        with sdk.run(agent=BOT, input="x") as run:
            place("ann", {"note": "n" * 5000}, [{"sku": "A"}])
        (span,) = _tool_spans(sink, run.trace_id)
    finally:
        sdk.shutdown(5)
    note = thaw(span.inputs)["args"]["prefs"]["note"]
    assert note.startswith("n" * 1000) and note.endswith("[agentdeck: truncated, 5000 chars]")
    assert span.attributes[TRUNCATED_ATTR] == ["inputs"]


def _span(inputs: Any) -> Span:
    return Span("t" * 32, "s" * 16, None, "x", SpanKind.TOOL, 1, 2, inputs=inputs)


@pytest.mark.parametrize("frozen", [False, True])
def test_the_batch_scan_misses_no_secret_the_item_scan_finds(frozen: bool) -> None:
    """Soundness of the one-scan-per-batch shortcut over the redaction corpus: every value the
    item-by-item redactor changes makes the batch scan report a possible match."""
    red = BatchRedactor(RedactionConfig()).redactor()
    values: list[Any] = [text for _, text, _ in POSITIVE] + [v for v, _ in NESTED_SECRET_KEYS]
    values += [*NEGATIVE, SUPPORT_RESULT]
    found = 0
    for value in values:
        payload = Frozen(orjson.dumps(value)) if frozen else value
        spans = [_span({"a": 1}), _span({"args": payload}), _span("clean")]
        if thaw(red.value({"args": payload})) != {"args": value}:
            found += 1
            assert not red.clean([[s.inputs, s.outputs, s.attributes, s.error] for s in spans])
    assert found >= len(POSITIVE) + len(NESTED_SECRET_KEYS)  # the corpus's secrets all count


def test_a_clean_batch_comes_back_as_the_same_objects() -> None:
    redact = BatchRedactor(RedactionConfig())
    spans = [_span({"args": Frozen(orjson.dumps({"q": i, "deep": {"x": [i]}}))}) for i in range(50)]
    runs: list[Run] = []
    out_runs, out_spans = redact(runs, spans)
    assert out_runs == [] and all(a is b for a, b in zip(out_spans, spans, strict=True))
