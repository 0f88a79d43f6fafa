"""Parsing references: name, name@N, name@sha256:<hex>, name@ENV (resolution: registry tests)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import InputError, UnresolvedReferenceError
from agentdeck.core.spec.refs import Ref, parse_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("support-bot", Ref("support-bot")),
        ("support-bot@7", Ref("support-bot", version=7)),
        ("support-bot@sha256:ab12", Ref("support-bot", digest="sha256:ab12")),
        ("support-bot@production", Ref("support-bot", env="production")),
        ("  bot.v2_x@dev  ", Ref("bot.v2_x", env="dev")),
    ],
)
def test_parse_ref(text: str, expected: Ref) -> None:
    assert parse_ref(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "@1",
        "Bot@1",
        "bot@",
        "bot@0",
        "bot@sha256:ab",
        "bot@sha256:XYZ1",
        "bot@1@2",
        "bot@Prod",
        "bad name",
    ],
)
def test_malformed_refs_are_refused_naming_the_ref(text: str) -> None:
    with pytest.raises(UnresolvedReferenceError) as info:
        parse_ref(text)
    assert info.value.ref == text
    assert str(info.value).startswith(f"{text}: ")
    assert isinstance(info.value, InputError)


_name = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,30}", fullmatch=True)
_refs = st.one_of(
    st.builds(Ref, _name),
    st.builds(lambda n, v: Ref(n, version=v), _name, st.integers(1, 10**6)),
    st.builds(
        lambda n, h: Ref(n, digest="sha256:" + h),
        _name,
        st.from_regex(r"[0-9a-f]{4,64}", fullmatch=True),
    ),
    st.builds(
        lambda n, e: Ref(n, env=e), _name, st.from_regex(r"[a-z][a-z0-9_-]{0,15}", fullmatch=True)
    ),
)


@given(_refs)
def test_str_and_parse_round_trip(ref: Ref) -> None:
    assert parse_ref(str(ref)) == ref
