"""The secret pattern catalogue: ``detect-secrets``' plugin patterns plus what they lack.

`detect-secrets <https://github.com/Yelp/detect-secrets>`_ (Yelp, Apache-2.0) keeps a maintained
regex per credential type in its plugins (``AWSKeyDetector.denylist``, ...). We import those
pattern objects rather than copying them, and add, each with the reason, the types it misses.
Importing ``detect_secrets`` costs about 0.3 s (it pulls in ``requests``) and does no I/O, so it
is imported lazily, on the first :func:`catalogue` call: in the SDK that is the exporter's
worker thread on the first batch, never ``import agentdeck`` or the agent's thread.

Groups (the names ``AGENTDECK_REDACT`` and ``agentdeck.init(redact=...)`` use):

- ``api_keys``: AWS access key ids and secret access keys, GitHub, GitLab, Slack, Stripe,
  Google API, OpenAI, Anthropic and agentdeck keys.
- ``bearer``: ``Bearer``/``Basic`` Authorization values, passwords in ``scheme://user:pw@`` URLs.
- ``private_keys``: PEM / OpenSSH / PGP / PuTTY private-key blocks, to their end marker.
- ``jwt``: JSON web tokens (checked to be base64 JSON).
- ``key_values``: the value after a secret-naming key inside a string: ``password=hunter2``,
  ``"api_key": "..."`` in JSON text, ``X-Api-Key: ...``, ``?access_token=...``.
- ``email``, ``card`` (optional): e-mail addresses, Luhn-valid card numbers.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterable, Mapping

from agentdeck.core.redaction.redact import (
    PURE_RULES,
    SECRET_KEY_WORDS,
    RedactionRule,
    Redactor,
    build_redactor,
    key_trigger,
)

__all__ = ["DEFAULT_GROUPS", "GROUPS", "catalogue", "key_words", "redactor"]

DEFAULT_GROUPS: tuple[str, ...] = ("api_keys", "bearer", "private_keys", "jwt", "key_values")
GROUPS: tuple[str, ...] = (*DEFAULT_GROUPS, "email", "card")

# -- what detect-secrets 1.5 lacks -------------------------------------------------------------
_MISSING_API_KEYS = (  # (pattern, RE2 trigger)
    # GitHub fine-grained personal access tokens (its GitHubTokenDetector knows only gh?_).
    (r"\bgithub_pat_[A-Za-z0-9_]{22,}", "github_pat_"),
    # Google API keys: no plugin.
    (r"\bAIza[0-9A-Za-z_\-]{35}(?![0-9A-Za-z_\-])", "AIza"),
    # Anthropic keys: no plugin.
    (r"\bsk-ant-(?:api|admin)\d\d-[A-Za-z0-9_\-]{20,}", "sk-ant-"),
    # OpenAI project/service-account/admin keys: its OpenAIDetector requires the legacy
    # "T3BlbkFJ" marker that newer keys do not carry.
    (r"\bsk-(?:proj-|svcacct-|admin-|live-|test-)?[A-Za-z0-9_\-]{20,}", "sk-"),
    # Stripe test-mode and long (2024+) secret keys and webhook secrets: its plugin knows only
    # sk_live/rk_live with exactly 24 characters.
    (r"\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{24,}", "[rs]k_(?:live|test)_"),
    (r"\bwhsec_[0-9a-zA-Z]{24,}", "whsec_"),
    # Slack app-level tokens (xapp-): its plugin knows only xox?-.
    (r"\bxapp-\d-[A-Za-z0-9\-]{10,}", "xapp-"),
    # agentdeck's own API keys.
    (r"\bak_[A-Za-z0-9]{6,}_[A-Za-z0-9_\-]{16,}", "ak_"),
)
# An AWS secret access key outside a quoted ``aws...key = "..."`` (all its plugin finds):
# 40 base64 characters standing alone, mixed case with digits (so hex hashes never match).
_AWS_SECRET_BARE = r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
# in JSON text the run may follow an escape (``\n``): the ``n`` then precedes it
_AWS_SECRET_TRIGGER = r"(?:^|[^A-Za-z0-9/+=]|\\[nrtbf])[A-Za-z0-9/+]{40}(?:[^A-Za-z0-9/+=]|$)"


def _aws_secret_like(text: str) -> bool:
    upper = sum(c.isupper() for c in text)
    lower = sum(c.islower() for c in text)
    digits = sum(c.isdigit() for c in text)
    return upper >= 3 and lower >= 3 and digits >= 1 and text.count("/") <= 3


_BEARER = r"(?i:\bbearer)\s+([A-Za-z0-9._~+/\-]{8,}=*)"
_BASIC = r"(?i:\bbasic)\s+([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])"


def _basic_credentials(text: str) -> bool:
    """``Basic`` values are base64 of ``user:password`` (so "basic troubleshooting" is not)."""
    try:
        return b":" in base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False


# detect-secrets' JWT pattern ends lazily (``[...]*?``), so its match stops before the
# signature; this one takes the signature too and keeps its validity check.
_JWT = r"\beyJ[A-Za-z0-9_=\-]+\.[A-Za-z0-9_=\-]+\.?[A-Za-z0-9_.+/=\-]*"


def _inline(pattern: re.Pattern[str]) -> str:
    """A compiled pattern as source text with its flags inline, so it can be combined."""
    flags = "".join(
        letter
        for flag, letter in (
            (re.IGNORECASE, "i"),
            (re.MULTILINE, "m"),
            (re.DOTALL, "s"),
            (re.VERBOSE, "x"),
        )
        if pattern.flags & flag
    )
    return f"(?{flags}:{pattern.pattern})" if flags else pattern.pattern


def key_words() -> tuple[str, ...]:
    """Words that name a secret when they end a key: ours plus detect-secrets' keyword list."""
    from detect_secrets.plugins.keyword import DENYLIST

    words = dict.fromkeys((*SECRET_KEY_WORDS, *DENYLIST))
    return tuple(words)


def _key_values(words: Iterable[str]) -> str:
    alternation = "|".join(w.replace("_?", "[_-]?") for w in words)
    return (
        rf"(?i:{alternation})(?![\w-])(?:\\?[\"'])?\s*[:=]\s*"
        r"(?!(?:null|true|false|none)\b)"
        r"(?:(?i:bearer|basic|token|digest)\s+)?(?!(?i:bearer|basic|token|digest)\s)"
        r"(?:\\?\"([^\"\\\n]+)|'([^'\n]+)|([^\s\"'\\,;&<>(){}\[\]]+))"
    )


def _pem(begin_markers: Iterable[str]) -> str:
    # detect-secrets finds the BEGIN line; we mask the whole block, to its END line or, when the
    # text was cut, to the end of the string.
    begins = "|".join(m for m in begin_markers if m.startswith("BEGIN "))
    return (
        rf"-{{3,5}} ?(?:{begins}|BEGIN ENCRYPTED PRIVATE KEY)[\s\S]*?"
        r"(?:-{3,5} ?END [A-Z0-9 ]*-{3,5}|\Z)"
        r"|PuTTY-User-Key-File-\d[\s\S]*?(?:Private-MAC: [0-9a-fA-F]+|\Z)"
    )


_lock = threading.Lock()
_catalogue: dict[str, tuple[RedactionRule, ...]] | None = None


def catalogue() -> Mapping[str, tuple[RedactionRule, ...]]:
    """Rule groups by name (imports detect-secrets on the first call)."""
    global _catalogue
    with _lock:
        if _catalogue is None:
            _catalogue = _build()
        return _catalogue


def _build() -> dict[str, tuple[RedactionRule, ...]]:
    from detect_secrets.plugins.aws import AWSKeyDetector
    from detect_secrets.plugins.basic_auth import BasicAuthDetector
    from detect_secrets.plugins.github_token import GitHubTokenDetector
    from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
    from detect_secrets.plugins.jwt import JwtTokenDetector
    from detect_secrets.plugins.openai import OpenAIDetector
    from detect_secrets.plugins.private_key import PrivateKeyDetector
    from detect_secrets.plugins.slack import SlackDetector
    from detect_secrets.plugins.stripe import StripeDetector

    def imported(detector: type, trigger: str) -> list[RedactionRule]:
        return [
            # gitlab's patterns group the prefix: mask the whole token, not just that group
            RedactionRule("api_keys", _inline(p), whole_match=True, trigger=trigger)
            for p in detector.denylist  # type: ignore[attr-defined]
        ]

    aws_id, aws_secret_quoted = AWSKeyDetector.denylist
    words = key_words()
    api_keys = [
        RedactionRule("api_keys", _inline(aws_id), whole_match=True, trigger=aws_id.pattern),
        # group 1 is the secret; it stands after "aws...key" in quotes
        RedactionRule("api_keys", _inline(aws_secret_quoted), trigger="(?i)aws"),
        *imported(GitHubTokenDetector, "gh[pousr]_"),
        *imported(GitLabTokenDetector, "gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-|GR1348941"),
        *imported(SlackDetector, "(?i)xox[a-z]-|(?i)hooks\\.slack\\.com"),
        *imported(StripeDetector, "[rs]k_live_"),
        *imported(OpenAIDetector, "T3BlbkFJ"),
        *(RedactionRule("api_keys", p, trigger=t) for p, t in _MISSING_API_KEYS),
        RedactionRule("api_keys", _AWS_SECRET_BARE, _aws_secret_like, trigger=_AWS_SECRET_TRIGGER),
    ]
    bearer = [
        RedactionRule("bearer", _BEARER, trigger="(?i)bearer"),
        RedactionRule("bearer", _BASIC, _basic_credentials, trigger="(?i)basic"),
        *(
            RedactionRule("bearer", _inline(p), trigger="://[^\\s/@]+:[^\\s/@]+@")
            for p in BasicAuthDetector.denylist
        ),
    ]
    pem = _pem(p.pattern for p in PrivateKeyDetector.denylist)
    return {
        "private_keys": (
            RedactionRule("private_key", pem, trigger="PRIVATE KEY|PuTTY-User-Key-File"),
        ),
        "api_keys": tuple(api_keys),
        "jwt": (RedactionRule("jwt", _JWT, JwtTokenDetector.is_formally_valid, trigger="eyJ"),),
        "bearer": tuple(bearer),
        "key_values": (
            RedactionRule("key_values", _key_values(words), trigger=key_trigger(words)),
        ),
        **PURE_RULES,
    }


def redactor(
    names: Iterable[str] = DEFAULT_GROUPS,
    patterns: Mapping[str, str] | None = None,
    keys: Iterable[str] = (),
    source: str = "redaction",
) -> Redactor:
    """The redactor of the named groups plus extra ``patterns`` and exact ``keys``.

    Group order in the combined regex follows :data:`GROUPS` (private-key blocks first, so a
    key block is masked whole before its lines could match anything else).
    """
    wanted = list(dict.fromkeys(names))
    cat = catalogue()
    ordered = [n for n in cat if n in wanted] + [n for n in wanted if n not in cat]
    return build_redactor(ordered, patterns, keys, source, catalogue=cat, key_words=key_words())
