"""The default redactor (detect-secrets' patterns plus ours): every secret type masked, ordinary
text untouched, idempotent and total on arbitrary JSON, detect-secrets imported lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redaction_corpus import NEGATIVE, NESTED_SECRET_KEYS, POSITIVE, SUPPORT_RESULT

from agentdeck.core.errors import InputError
from agentdeck.core.redaction.redact import Redactor
from agentdeck.tracing.sdk.secret_patterns import redactor

RED = redactor()


@pytest.mark.parametrize(("label", "text", "secret"), POSITIVE, ids=[p[0] for p in POSITIVE])
def test_each_secret_type_is_masked(label: str, text: str, secret: str) -> None:
    out = RED.text(text)
    assert secret not in out, f"{label}: {out!r}"
    assert "[REDACTED:" in out


@pytest.mark.parametrize(("value", "secret"), NESTED_SECRET_KEYS)
def test_values_under_secret_keys_are_masked_at_any_depth(
    value: dict[str, object], secret: str
) -> None:
    import orjson

    out = orjson.dumps(RED.value(value)).decode()
    assert secret not in out and "[REDACTED:key]" in out


def test_the_masks_keep_what_is_not_secret() -> None:
    assert RED.text("Authorization: Bearer abcdefgh12345678") == (
        "Authorization: Bearer [REDACTED:key_values]"
    )
    assert RED.text("auth Bearer abcdefgh12345678") == "auth Bearer [REDACTED:bearer]"
    assert RED.text("x password=hunter2 y") == "x password=[REDACTED:key_values] y"
    assert RED.text("postgres://app:pw-123@db/x") == "postgres://app:[REDACTED:bearer]@db/x"


def test_ordinary_text_has_zero_redactions() -> None:
    changed = [t for t in NEGATIVE if RED.text(t) != t]
    assert changed == []
    assert RED.value(SUPPORT_RESULT) is SUPPORT_RESULT  # not even copied


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from([p[1] for p in POSITIVE] + NEGATIVE[:3]),
    lambda c: (
        st.lists(c, max_size=5)
        | st.dictionaries(
            st.text(max_size=12) | st.sampled_from(["password", "apiKey"]), c, max_size=5
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(JSON_VALUES)
def test_redaction_never_raises_and_is_idempotent(value: object) -> None:
    once = RED.value(value)
    assert RED.value(once) == once


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"ab=:\"' \\-_[]/+.1", "password", "Bearer ", "basic ",
                                  "sk-", "eyJ", "AKIA", "://u:"])))  # fmt: skip
def test_text_redaction_is_idempotent_on_tricky_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    once = RED.text(text)
    assert RED.text(once) == once


def test_unknown_group_and_bad_pattern_name_the_setting() -> None:
    with pytest.raises(InputError, match="AGENTDECK_REDACT: unknown pattern group 'phone'"):
        redactor(["phone"], source="AGENTDECK_REDACT")
    custom = redactor([], {"ssn": r"\b\d{3}-\d{2}-\d{4}\b"}, keys=["member_no"])
    assert custom.text("ssn 123-45-6789") == "ssn [REDACTED:ssn]"
    assert custom.value({"memberNo": "M-1"}) == {"memberNo": "[REDACTED:key]"}


def test_detect_secrets_is_not_imported_with_agentdeck(tmp_path: Path) -> None:
    code = (
        "import sys, agentdeck\n"
        "agentdeck.init(sink=agentdeck.InMemorySink(), spill_dir=sys.argv[1],\n"
        "               enforce_policies=False)\n"
        "assert 'detect_secrets' not in sys.modules, 'imported at init'\n"
        "with agentdeck.run(agent=None, input='password=x1') as r: pass\n"
        "assert agentdeck.flush(10)\n"
        "assert 'detect_secrets' in sys.modules, 'not used by the worker'\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr


def _without_prefilter() -> Redactor:
    return Redactor(RED.rules, RED.sensitive_keys, RED.key_pattern, RED.key_words, prefilter=False)


FULL_SCAN = _without_prefilter()


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.sampled_from(
            [p[1] for p in POSITIVE] + [v for v, _ in NESTED_SECRET_KEYS] + NEGATIVE[:4]
        )
        | st.text(max_size=20),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.text(max_size=8) | st.sampled_from(["password", "q"]), c, max_size=4
            )
            | st.builds(
                lambda a, b: f'{a}\n{b}\t"',
                st.text(max_size=8),
                c.filter(lambda x: isinstance(x, str)),
            )
        ),
        max_leaves=12,
    )
)
def test_the_trigger_prefilter_never_skips_what_a_full_scan_masks(value: object) -> None:
    assert RED.value(value) == FULL_SCAN.value(value)
    assert FULL_SCAN._triggers is None and RED._triggers is not None
