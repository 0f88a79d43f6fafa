"""Redaction: mask secrets and personal data in JSON values before anything is stored.

Pure: patterns and a recursive walk, no I/O. The server applies a :class:`Redactor` to every
span (args, results, messages, attributes, error) and run (input, output, error) it ingests,
so a secret an agent passed to a tool never reaches the database.

Pattern groups, by name:

- ``api_keys`` (default): OpenAI/Anthropic style ``sk-...``, agentdeck ``ak_<id>_<secret>``,
  AWS access key ids ``AKIA...``/``ASIA...``, GitHub tokens ``ghp_...``/``github_pat_...``,
  Slack tokens ``xox?-...``.
- ``bearer`` (default): the token after ``Bearer`` (the word itself is kept).
- ``email`` (optional): e-mail addresses.
- ``card`` (optional): payment card numbers (13-19 digits, spaces or dashes allowed) that pass
  the Luhn check, so order numbers and timestamps are left alone.

Values under a sensitive key (``password``, ``api_key``, ``authorization``, ...) are masked
whole, whatever they look like. A mask names the rule that fired: ``[REDACTED:api_keys]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agentdeck.core.errors import InputError
from agentdeck.core.trace import Run, Span

JSON = Any

_API_KEYS = "|".join(
    (
        r"\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_\-]{16,}",
        r"\bak_[A-Za-z0-9]{6,}_[A-Za-z0-9_\-]{16,}",
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        r"\bgh[pousr]_[A-Za-z0-9]{30,}",
        r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        r"\bxox[abprs]-[A-Za-z0-9\-]{10,}",
    )
)
_BEARER = r"(?i:(?<=\bbearer )|(?<=\bbearer  ))[A-Za-z0-9._~+/=\-]{8,}"
_EMAIL = r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"
_CARD = r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])"


def luhn_ok(text: str) -> bool:
    """The Luhn checksum of the digits in ``text`` (what card numbers satisfy)."""
    digits = [int(c) for c in text if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class RedactionRule:
    """A named pattern; ``check`` (if any) must also accept a match for it to be masked."""

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None


BUILTIN_RULES: dict[str, RedactionRule] = {
    "api_keys": RedactionRule("api_keys", _API_KEYS),
    "bearer": RedactionRule("bearer", _BEARER),
    "email": RedactionRule("email", _EMAIL),
    "card": RedactionRule("card", _CARD, luhn_ok),
}
DEFAULT_RULES: tuple[str, ...] = ("api_keys", "bearer")
DEFAULT_SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "api_key",
        "apikey",
        "x-api-key",
        "authorization",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "private_key",
    }
)
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Redactor:
    """Masks every match of its rules in strings, recursively through JSON values.

    Build it with :func:`build_redactor`. Values that contain nothing to mask come back as the
    very same objects (no copy), so redaction costs one regex scan per string.
    """

    rules: tuple[RedactionRule, ...]
    sensitive_keys: frozenset[str] = DEFAULT_SENSITIVE_KEYS
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.rules:
            combined = "|".join(f"(?P<r{i}>{r.pattern})" for i, r in enumerate(self.rules))
            object.__setattr__(self, "_regex", re.compile(combined))

    @property
    def enabled(self) -> bool:
        return self._regex is not None or bool(self.sensitive_keys)

    def text(self, value: str) -> str:
        """``value`` with every match masked (the same string when nothing matches)."""
        regex = self._regex
        if regex is None or regex.search(value) is None:
            return value
        return regex.sub(self._mask, value)

    def _mask(self, m: re.Match[str]) -> str:
        group = m.lastgroup
        rule = self.rules[int(group[1:])] if group else None
        if rule is None or (rule.check is not None and not rule.check(m.group(0))):
            return m.group(0)
        return f"[REDACTED:{rule.name}]"

    def value(self, value: JSON, _depth: int = 0) -> JSON:
        """A JSON value with secrets masked; containers are copied only where something changed."""
        if isinstance(value, str):
            return self.text(value)
        if _depth > _MAX_DEPTH:
            return value
        if isinstance(value, dict):
            out: dict[Any, JSON] | None = None
            for k, v in value.items():
                if isinstance(k, str) and k.lower() in self.sensitive_keys and v is not None:
                    new: JSON = "[REDACTED:key]"
                else:
                    new = self.value(v, _depth + 1)
                if new is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = new
            return value if out is None else out
        if isinstance(value, list | tuple):
            items: list[JSON] | None = None
            for i, v in enumerate(value):
                new = self.value(v, _depth + 1)
                if new is not v:
                    if items is None:
                        items = list(value)
                    items[i] = new
            return value if items is None else items
        return value

    def span(self, span: Span) -> Span:
        """The span with its inputs, outputs, attributes and error masked."""
        inputs = self.value(span.inputs)
        outputs = self.value(span.outputs)
        attributes = self.value(span.attributes) if span.attributes else span.attributes
        error = self.text(span.error) if span.error else span.error
        if (
            inputs is span.inputs
            and outputs is span.outputs
            and attributes is span.attributes
            and error is span.error
        ):
            return span
        return replace(span, inputs=inputs, outputs=outputs, attributes=attributes, error=error)

    def run(self, run: Run) -> Run:
        """The run with its input, output, attributes and error masked."""
        inp = self.value(run.input)
        out = self.value(run.output)
        attributes = self.value(run.attributes) if run.attributes else run.attributes
        error = self.text(run.error) if run.error else run.error
        if (
            inp is run.input
            and out is run.output
            and attributes is run.attributes
            and error is run.error
        ):
            return run
        return replace(run, input=inp, output=out, attributes=attributes, error=error)


def build_redactor(
    names: Iterable[str] = DEFAULT_RULES,
    extra: Mapping[str, str] | None = None,
    sensitive_keys: Iterable[str] = DEFAULT_SENSITIVE_KEYS,
    source: str = "redaction",
) -> Redactor:
    """A redactor from built-in rule names plus ``extra`` named regular expressions.

    An unknown name or a pattern that does not compile raises :class:`InputError` naming it.
    """
    rules: list[RedactionRule] = []
    for name in names:
        rule = BUILTIN_RULES.get(name)
        if rule is None:
            known = ", ".join(sorted(BUILTIN_RULES))
            raise InputError(f"{source}: unknown pattern group {name!r} (known: {known})")
        rules.append(rule)
    for name, pattern in (extra or {}).items():
        if not name.replace("_", "").isalnum():
            raise InputError(f"{source}: pattern name {name!r} must be letters, digits and _")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(f"{source}: pattern {name!r} does not compile: {exc}") from None
        rules.append(RedactionRule(name, pattern))
    return Redactor(tuple(rules), frozenset(k.lower() for k in sensitive_keys))
