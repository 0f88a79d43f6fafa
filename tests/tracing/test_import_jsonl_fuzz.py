"""Fuzzing the OpenAI chat JSONL parser: whatever a line holds, it parses or raises one
``InputError`` (one line, naming a field); a parsed conversation's tool results each answer an
earlier call, and its timing is known only with a timestamp on every message."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.tracing.imports.openai_jsonl import parse_line

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**40), st.floats(allow_nan=True), st.text(max_size=8)
)
json_like = st.recursive(
    scalars,
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=6), c, max_size=4)
    ),
    max_leaves=12,
)
ids = st.sampled_from(["c1", "c2", "c3", "", None, 7])
stamp = st.one_of(
    st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 2**40),
    st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:01+02:00", "2026-01-01", "soon"]),
)  # fmt: skip
tool_call = st.fixed_dictionaries(
    {},
    optional={
        "id": ids, "type": st.just("function"),
        "function": st.one_of(json_like, st.fixed_dictionaries(
            {"name": st.one_of(st.sampled_from(["lookup", "refund"]), json_like)},
            optional={"arguments": st.one_of(st.just('{"a": 1}'), st.just("{bad"), json_like)})),
    },
)  # fmt: skip
message = st.fixed_dictionaries(
    {"role": st.one_of(st.sampled_from(["user", "assistant", "tool", "system"]), json_like)},
    optional={
        "content": json_like, "tool_calls": st.one_of(st.lists(tool_call, max_size=3), json_like),
        "tool_call_id": ids, "timestamp": stamp, "usage": st.one_of(json_like, st.fixed_dictionaries(
            {"prompt_tokens": st.one_of(st.integers(-1, 99), json_like)})),
    },
)  # fmt: skip
conversation = st.fixed_dictionaries(
    {"messages": st.one_of(st.lists(message, max_size=6), json_like)},
    optional={"outcome": json_like, "metadata": json_like, "usage": json_like, "tools": json_like},
)


def _line(doc: Any) -> bytes:
    return json.dumps(doc).encode()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(conversation, json_like))
def test_a_line_parses_or_raises_one_named_input_error(doc: Any) -> None:
    try:
        conv = parse_line(_line(doc))
    except InputError as exc:
        text = str(exc)
        assert text and "\n" not in text
        return
    answered = set()
    asked: set[str] = set()
    for m in conv.messages:
        for c in m.get("tool_calls") or ():
            asked.add(c["id"])
        if m["role"] == "tool":
            assert m["tool_call_id"] in asked and m["tool_call_id"] not in answered
            answered.add(m["tool_call_id"])
    raw = doc["messages"]
    all_stamped = all("timestamp" in m and m["timestamp"] is not None for m in raw)
    assert (conv.timestamps is not None) == all_stamped
    if conv.timestamps is not None:
        assert list(conv.timestamps) == sorted(conv.timestamps)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_bytes_that_are_not_json_raise_an_input_error(raw: bytes) -> None:
    try:
        parse_line(raw)
    except InputError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(
    outcome=st.one_of(json_like, st.integers()),
    tools=json_like,
    stamps=st.lists(st.one_of(stamp, st.integers()), min_size=2, max_size=2),
)
def test_the_sdk_call_arguments_parse_or_raise_one_named_input_error(
    outcome: Any, tools: Any, stamps: list[Any]
) -> None:
    from agentdeck.core.trace.conversation import parse_conversation

    doc = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}],
           "tools": tools}  # fmt: skip
    for extra in (
        {"outcome": outcome},
        {"timestamps": stamps},
        {"outcome": {"success": True, "score": outcome}},
    ):
        try:
            parse_conversation(doc, **extra)
        except InputError as exc:
            assert "\n" not in str(exc)
