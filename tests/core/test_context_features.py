from __future__ import annotations

from agentdeck.core.behaviour.context_features import (
    NO_SCRIPT,
    dominant_script,
    extract_context,
    hashed_bow,
    script_counts,
    script_of,
    user_text,
)


def test_scripts_are_classified_by_writing_system() -> None:
    assert script_of("a") == "latin"
    assert script_of("é") == "latin"
    assert script_of("ж") == "cyrillic"
    assert script_of("字") == "han"
    assert script_of("か") == "kana"
    assert script_of("한") == "hangul"
    assert script_of("ب") == "arabic"
    assert script_of("7") is None
    assert script_of("!") is None


def test_dominant_script_of_mixed_text_and_of_no_letters() -> None:
    assert dominant_script(script_counts("привет world мир")) == "cyrillic"
    assert dominant_script(script_counts("123 !!")) == NO_SCRIPT


def test_hashed_bow_is_case_insensitive_stable_and_sized() -> None:
    a = hashed_bow("Refund my ORDER order", 32)
    assert len(a) == 32 and sum(a) == 4
    assert a == hashed_bow("refund my order Order", 32)
    assert max(a) >= 2  # both spellings of "order" share a bucket


def test_user_text_takes_user_messages_from_a_message_list() -> None:
    msgs = [{"role": "system", "content": "secret"}, {"role": "user", "content": "hi there"}]
    assert user_text(msgs) == "hi there"
    assert user_text({"question": "a", "lang": "b"}) == "a\nb"


def test_extract_context_counts_turns_sizes_and_length() -> None:
    ctx = extract_context(
        "где мой заказ",
        [
            [{"role": "user", "content": "a"}],
            [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
        ],
        [{"x": 1}, [1, 2]],
        bow_buckets=8,
    )
    assert ctx.input_chars == len("где мой заказ")
    assert ctx.turns == 2
    assert ctx.tool_response_bytes == (7, 5)
    assert ctx.dominant_script == "cyrillic"
    assert len(ctx.bow) == 8 and sum(ctx.bow) == 3
    assert ctx.to_dict()["script_chars"] == {"cyrillic": 11}
