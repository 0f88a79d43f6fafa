"""The redaction machinery (pure): group masking, checks, Luhn, secret key names, and that values
with nothing to mask come back as the same objects. The pattern catalogue is tested in
tests/tracing/test_secret_patterns.py."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.redaction.redact import (
    RedactionRule,
    Redactor,
    build_redactor,
    luhn_ok,
    normalize_key,
)

ALL = build_redactor(["email", "card"])


def test_email_and_card_groups_and_cards_need_a_valid_luhn() -> None:
    text = "mail bob@example.com card 4111 1111 1111 1111 order 4111 1111 1111 1112"
    assert ALL.text(text) == (
        "mail [REDACTED:email] card [REDACTED:card] order 4111 1111 1111 1112"
    )
    assert luhn_ok("4111-1111-1111-1111") and not luhn_ok("1234")


def test_only_the_capture_groups_are_masked_unless_the_rule_says_whole_match() -> None:
    kv = Redactor((RedactionRule("kv", r"pin=(\d+)|code:(\w+)"),))
    assert kv.text("pin=1234 and code:abc") == "pin=[REDACTED:kv] and code:[REDACTED:kv]"
    whole = Redactor((RedactionRule("tok", r"(tk|tq)-\d{4}", whole_match=True),))
    assert whole.text("x tk-1234 y") == "x [REDACTED:tok] y"


def test_a_check_that_refuses_leaves_the_text_and_later_matches_still_count() -> None:
    red = Redactor((RedactionRule("even", r"\d+", lambda s: int(s) % 2 == 0),))
    assert red.text("1 22 333 4444") == "1 [REDACTED:even] 333 [REDACTED:even]"


def test_a_mask_is_never_masked_again() -> None:
    red = Redactor((RedactionRule("any", r"\[?[A-Z:a-z_]+\]?"),))
    once = red.text("word")
    assert once == "[REDACTED:any]" and red.text(once) == once


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("db_password", True),
        ("clientSecret", True),
        ("X-Api-Key", True),
        ("apikey", True),
        ("refresh_token", True),
        ("Authorization", True),
        ("max_tokens", False),
        ("token_count", False),
        ("api_key_hint", False),
        ("password_reset_sent", False),
        ("order_id", False),
    ],
)
def test_secret_key_names_are_decided_by_their_last_word(key: str, secret: bool) -> None:
    red = build_redactor()
    assert red.is_secret_key(key) is secret


def test_values_under_secret_keys_are_masked_but_not_booleans_or_nulls() -> None:
    red = build_redactor(sensitive_keys=["member_no"])
    value = {"args": {"password": "hunter2", "apiKey": None, "has_secret": True}, "MemberNo": 7}
    assert red.value(value) == {
        "args": {"password": "[REDACTED:key]", "apiKey": None, "has_secret": True},
        "MemberNo": "[REDACTED:key]",
    }
    assert normalize_key("X-Api.Key") == "x_api_key"


@given(
    st.recursive(
        st.none() | st.integers() | st.text(alphabet="abc xyz.,"),
        lambda c: st.lists(c) | st.dictionaries(st.sampled_from("abc"), c),
    )
)
def test_values_without_secrets_come_back_unchanged_and_uncopied(value: object) -> None:
    assert ALL.value(value) is value


def test_unknown_group_and_bad_pattern_name_the_setting() -> None:
    with pytest.raises(InputError, match="AGENTDECK_REDACT: unknown pattern group 'phone'"):
        build_redactor(["phone"], source="AGENTDECK_REDACT")
    with pytest.raises(InputError, match="'ssn' does not compile"):
        build_redactor([], {"ssn": "(unclosed"})
    custom = build_redactor([], {"ssn": r"\b\d{3}-\d{2}-\d{4}\b"})
    assert custom.text("ssn 123-45-6789") == "ssn [REDACTED:ssn]"
