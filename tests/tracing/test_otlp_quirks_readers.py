"""The readers behind the Traceloop and Pydantic AI quirks, on the shapes those producers send
(the corpus tests check them end to end) and on shapes they must leave alone."""

from __future__ import annotations

from agentdeck.tracing.otlp.messages import from_genai_messages
from agentdeck.tracing.otlp.quirks import traceloop_input, traceloop_output


def test_traceloop_input_opens_the_call_envelope() -> None:
    assert traceloop_input('{"args": [], "kwargs": {"city": "Paris"}}') == {"city": "Paris"}
    assert traceloop_input('{"args": ["What now?"], "kwargs": {}}') == "What now?"
    both = '{"args": [1], "kwargs": {"x": 2}}'
    assert traceloop_input(both) == {"args": [1], "kwargs": {"x": 2}}


def test_traceloop_input_keeps_what_is_no_envelope() -> None:
    assert traceloop_input('{"city": "Paris"}') == {"city": "Paris"}
    assert traceloop_input("plain text") == "plain text"
    assert traceloop_input('{"args": "x", "kwargs": {}}') == {"args": "x", "kwargs": {}}
    assert traceloop_output('"sunny"') == "sunny"


def test_tool_responses_inside_a_user_message_become_tool_messages() -> None:
    raw = [
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "c1", "name": "f", "result": "one"},
                {"type": "tool_call_response", "id": "c2", "name": "f", "result": "two"},
                {"type": "text", "content": "and then?"},
            ],
        }
    ]
    assert from_genai_messages(raw) == [
        {"role": "tool", "content": "one", "tool_call_id": "c1"},
        {"role": "tool", "content": "two", "tool_call_id": "c2"},
        {"role": "user", "content": "and then?"},
    ]


def test_a_tool_message_with_the_conventions_response_key_is_left_whole() -> None:
    raw = [{"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": 3}]}]
    assert from_genai_messages(raw) == [{"role": "tool", "content": "3", "tool_call_id": "c1"}]
