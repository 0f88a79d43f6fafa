"""Redaction patterns: what is masked by default, optional groups, Luhn, sensitive keys, and
that values with nothing to mask come back as the same objects."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.redact import build_redactor, luhn_ok

DEFAULT = build_redactor()
ALL = build_redactor(["api_keys", "bearer", "email", "card"])


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-AbCdEfGhIjKlMnOpQrStUv123",
        "ak_0123456789ab_Zm9vYmFyYmF6cXV4cXV1eHh4eHh4",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_" + "a1B2" * 9,
        "xoxb-1234567890-abcdefghij",
    ],
)
def test_default_masks_api_keys_inside_text(secret: str) -> None:
    out = DEFAULT.text(f"use {secret} now")
    assert secret not in out and out == "use [REDACTED:api_keys] now"


def test_bearer_token_is_masked_but_the_word_kept() -> None:
    assert DEFAULT.text("Authorization: Bearer eyJhbGciOi.JIUzI1NiJ9.x") == (
        "Authorization: Bearer [REDACTED:bearer]"
    )


def test_email_and_card_are_optional_and_cards_need_a_valid_luhn() -> None:
    text = "mail bob@example.com card 4111 1111 1111 1111 order 4111 1111 1111 1112"
    assert DEFAULT.text(text) == text
    assert ALL.text(text) == (
        "mail [REDACTED:email] card [REDACTED:card] order 4111 1111 1111 1112"
    )
    assert luhn_ok("4111-1111-1111-1111") and not luhn_ok("1234")


def test_json_values_are_masked_recursively_and_sensitive_keys_whole() -> None:
    value = {"args": {"password": "hunter2", "q": ["x", {"k": "sk-abcdefghijklmnopqrst"}]}, "n": 3}
    assert DEFAULT.value(value) == {
        "args": {"password": "[REDACTED:key]", "q": ["x", {"k": "[REDACTED:api_keys]"}]},
        "n": 3,
    }


@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet="abc xyz.,"),
        lambda c: st.lists(c) | st.dictionaries(st.sampled_from("abc"), c),
    )
)
def test_values_without_secrets_come_back_unchanged_and_uncopied(value: object) -> None:
    assert ALL.value(value) is value


def test_unknown_group_and_bad_pattern_name_the_setting() -> None:
    with pytest.raises(InputError, match="unknown pattern group 'phone'"):
        build_redactor(["phone"], source="AGENTDECK_REDACT")
    with pytest.raises(InputError, match="'ssn' does not compile"):
        build_redactor([], {"ssn": "(unclosed"})
    custom = build_redactor([], {"ssn": r"\b\d{3}-\d{2}-\d{4}\b"})
    assert custom.text("ssn 123-45-6789") == "ssn [REDACTED:ssn]"
