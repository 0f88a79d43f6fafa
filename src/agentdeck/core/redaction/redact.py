"""Redaction: mask secrets and personal data in JSON values before anything is written.

Pure: patterns and a recursive walk, no I/O. The same :class:`Redactor` runs in the SDK (in the
exporter's worker, before a batch reaches any destination) and on the server (on every span and
run it ingests from other producers). The pattern catalogue, most of it taken from
``detect-secrets``' plugins, is assembled in :mod:`agentdeck.tracing.sdk.secret_patterns`; this
module holds the machinery and the patterns that need no third-party source.

A rule is a regular expression with a name. When the pattern has capture groups, only the groups
that took part in the match are masked (``password=[REDACTED:key_values]`` keeps the key),
unless the rule says ``whole_match``; else the whole match is. A rule may also carry a ``check``
that must accept the masked text (the Luhn sum of a card number, a JWT's base64 JSON header),
and a ``trigger``: an RE2 regex run, with all the others at once, over the value's JSON text
first, so that only the rules that may match run (Python ``re``) on its strings.

Values under a dict key that names a secret (``password``, ``apiKey``, ``X-Api-Key``,
``aws_secret_access_key``, ``refresh_token``, ...) are masked whole, whatever they look like:
the key's last word decides, so ``max_tokens`` and ``api_key_hint`` are left alone. A mask
names the rule that fired: ``[REDACTED:api_keys]``, ``[REDACTED:key]`` for a key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
import re2

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span
from agentdeck.core.trace.raw_json import Frozen, fragment
from agentdeck.core.types import JSON

_EMAIL = r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b"
_CARD = r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])"

#: Words that make a key name a secret when they end it (``db_password``, ``clientSecret``).
#: ``detect-secrets``' keyword list is added to these by the catalogue.
SECRET_KEY_WORDS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",  # only as the last word: max_tokens, token_count are not secrets
    "api_?key",
    "access_?key",
    "secret_?key",
    "private_?key",
    "auth_?key",
    "client_?key",
    "credentials?",
    "authorization",
    "cookie",
)
KEY_MASK = "[REDACTED:key]"


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
    """A named pattern; ``check`` (if any) must also accept the masked text for it to be masked.

    ``pattern`` is a regular expression without backreferences (rules are combined into one);
    flags go inline (``(?i:...)``).
    """

    name: str
    pattern: str
    check: Callable[[str], bool] | None = None
    whole_match: bool = False  # mask the whole match even if the pattern has groups
    #: An RE2 regex that matches the JSON text (``orjson.dumps``) of any value in which
    #: ``pattern`` could match (a superset: escapes and lookarounds loosened). None: the rule
    #: runs on every string (user patterns: their JSON-escaped form is not known).
    trigger: str | None = None


PURE_RULES: dict[str, tuple[RedactionRule, ...]] = {
    "email": (RedactionRule("email", _EMAIL, trigger="@"),),
    "card": (RedactionRule("card", _CARD, luhn_ok, trigger=r"[0-9](?:[ \-]?[0-9]){12}"),),
}
_MAX_DEPTH = 64
_KEY_CACHE_MAX = 4096
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def key_trigger(words: Iterable[str], exact: Iterable[str] = ()) -> str:
    """An RE2 trigger for key names that may be secret, in JSON text (any case or separator)."""
    alternation = "|".join(
        [w.replace("_?", "[_.\\- ]?") for w in words]
        + [re.escape(k).replace("_", "[_.\\- ]?") for k in exact]
    )
    return rf"(?i)(?:{alternation})(?:[^\w\-]|$)"


def key_name_regex(words: Iterable[str]) -> str:
    """A regex that matches a normalized key name (``snake_case``) ending in one of ``words``."""
    return r"(?:.*_)?(?:" + "|".join(words) + r")"


def normalize_key(name: str) -> str:
    """``clientSecret``, ``X-Api-Key``, ``db.password`` -> ``client_secret``, ``x_api_key``, ..."""
    return _CAMEL.sub("_", name).lower().replace("-", "_").replace(".", "_").replace(" ", "_")


class _Scanner:
    """The combined regex of some rules (those a value's triggers hit), and whether keys count."""

    __slots__ = ("groups", "keys", "regex", "rules")

    def __init__(self, rules: Sequence[RedactionRule], keys: bool) -> None:
        self.rules = tuple(rules)
        self.keys = keys
        self.regex: re.Pattern[str] | None = None
        self.groups: tuple[tuple[int, tuple[int, ...]], ...] = ()
        if rules:
            combined = "|".join(f"(?P<r{i}>{r.pattern})" for i, r in enumerate(rules))
            regex = re.compile(combined)
            groups = []
            for i, rule in enumerate(rules):
                outer = regex.groupindex[f"r{i}"]
                inner = re.compile(rule.pattern).groups
                groups.append((outer, tuple(range(outer + 1, outer + 1 + inner))))
            self.regex = regex
            self.groups = tuple(groups)

    def text(self, value: str) -> str:
        regex = self.regex
        if regex is None:
            return value
        m = regex.search(value)
        if m is None:
            return value
        parts: list[str] = []
        pos = 0
        while m is not None:
            pos = self._mask(m, value, pos, parts)
            m = regex.search(value, max(m.end(), m.start() + 1))
        if not parts:
            return value
        parts.append(value[pos:])
        return "".join(parts)

    def _mask(self, m: re.Match[str], value: str, pos: int, parts: list[str]) -> int:
        group = m.lastgroup
        if group is None:
            return pos
        index = int(group[1:])
        rule = self.rules[index]
        outer, inner = self.groups[index]
        spans = [] if rule.whole_match else [m.span(g) for g in inner if m.start(g) >= 0]
        if not spans:
            spans = [m.span(outer)]
        for start, end in spans:
            if start < pos or end <= start or value.startswith("[REDACTED:", start):
                continue
            if rule.check is not None and not rule.check(value[start:end]):
                continue
            parts.append(value[pos:start])
            parts.append(f"[REDACTED:{rule.name}]")
            pos = end
        return pos


@dataclass(frozen=True)
class Redactor:
    """Masks every match of its rules in strings, recursively through JSON values.

    A value is first serialized (orjson) and scanned once by an RE2 set of the rules'
    triggers; only the rules whose trigger hit then run (Python ``re``) on its strings, so
    the usual value, with nothing to mask, costs one serialization and one linear scan, and
    comes back as the very same object (no copy). Values captured as JSON bytes
    (:class:`~agentdeck.core.trace.raw_json.Frozen`) are scanned as they are and parsed only when a
    trigger hit in the span or run that holds them.
    """

    rules: tuple[RedactionRule, ...]
    sensitive_keys: frozenset[str] = frozenset()
    key_pattern: str | None = None
    key_words: tuple[str, ...] = ()
    prefilter: bool = True  # False: every rule runs on every string (tests compare)
    _full: _Scanner = field(init=False, repr=False, compare=False)
    _triggers: Any = field(default=None, init=False, repr=False, compare=False)
    _trigger_ids: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)
    _always: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)
    _scanners: dict[tuple[int, ...], _Scanner] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _key_regex: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _key_cache: dict[str, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        checks_keys = bool(self.sensitive_keys) or self.key_pattern is not None
        object.__setattr__(self, "_full", _Scanner(self.rules, checks_keys))
        if self.key_pattern:
            object.__setattr__(self, "_key_regex", re.compile(self.key_pattern))
        if not self.prefilter:
            return
        triggers = re2.Set.SearchSet(_re2_options())
        always: list[int] = []
        ids: list[int] = []
        for i, rule in enumerate(self.rules):
            if rule.trigger is None or not _add_trigger(triggers, rule.trigger, i, ids):
                always.append(i)
        keys_trigger = key_trigger(self.key_words, self.sensitive_keys)
        if checks_keys and not _add_trigger(triggers, keys_trigger, len(self.rules), ids):
            return  # no prefilter: every rule and key runs on every value
        if not ids:
            return
        triggers.Compile()
        object.__setattr__(self, "_triggers", triggers)
        object.__setattr__(self, "_trigger_ids", tuple(ids))
        object.__setattr__(self, "_always", tuple(always))

    @property
    def enabled(self) -> bool:
        return self._full.regex is not None or self._full.keys

    def is_secret_key(self, key: str) -> bool:
        """Whether values under the dict key ``key`` are masked whole."""
        hit = self._key_cache.get(key)
        if hit is None:
            norm = normalize_key(key)
            hit = norm in self.sensitive_keys or (
                self._key_regex is not None and self._key_regex.fullmatch(norm) is not None
            )
            if len(self._key_cache) < _KEY_CACHE_MAX:
                self._key_cache[key] = hit
        return hit

    def _scanner(self, value: JSON) -> _Scanner | None:
        """The rules that may match somewhere in ``value`` (None: nothing can)."""
        triggers = self._triggers
        if triggers is None:
            return self._full
        try:
            data = (
                value.encode() if isinstance(value, str) else orjson.dumps(value, default=fragment)
            )
        except (TypeError, UnicodeEncodeError, orjson.JSONEncodeError):
            return self._full  # not JSON data (or lone surrogates): scan it all
        hits = triggers.Match(data)
        if hits is None and not self._always:
            return None
        ids = self._trigger_ids
        wanted = tuple(sorted({*(ids[h] for h in hits or ()), *self._always}))
        scanner = self._scanners.get(wanted)
        if scanner is None:
            n = len(self.rules)
            scanner = _Scanner([self.rules[i] for i in wanted if i < n], n in wanted)
            if len(self._scanners) < _KEY_CACHE_MAX:
                self._scanners[wanted] = scanner
        return scanner

    def clean(self, values: Sequence[JSON]) -> bool:
        """True when no rule can match anywhere in ``values`` (so nothing in them is masked).

        One serialization and one RE2 scan for all of them (the exporter passes a whole batch
        of ``[inputs, outputs, attributes, error]`` lists): a match of a trigger in one item's
        JSON text is a match in the list's, whose items are bracketed and comma-separated.
        False whenever that cannot be told this way (no prefilter, rules without triggers).
        """
        triggers = self._triggers
        if triggers is None or self._always:
            return False
        try:
            data = orjson.dumps(values, default=fragment)
        except (TypeError, orjson.JSONEncodeError):
            return False
        return triggers.Match(data) is None

    def text(self, value: str) -> str:
        """``value`` with every match masked (the same string when nothing matches)."""
        scanner = self._scanner(value)
        return value if scanner is None else scanner.text(value)

    def value(self, value: JSON) -> JSON:
        """A JSON value with secrets masked; containers are copied only where something changed."""
        if value is None or isinstance(value, bool | int | float):
            return value
        scanner = self._scanner(value)
        return value if scanner is None else self._walk(scanner, value, 0)

    def _walk(self, scanner: _Scanner, value: JSON, depth: int) -> JSON:
        if isinstance(value, str):
            return scanner.text(value)
        if type(value) is Frozen:  # captured bytes in which a trigger hit: parse, then mask
            parsed = orjson.loads(value.data)
            masked = self._walk(scanner, parsed, depth)
            return value if masked is parsed else masked
        if depth > _MAX_DEPTH:
            return value
        if isinstance(value, dict):
            out: dict[Any, JSON] | None = None
            for k, v in value.items():
                if (
                    scanner.keys
                    and isinstance(k, str)
                    and v is not None
                    and not isinstance(v, bool)
                    and not (isinstance(v, str) and v == KEY_MASK)
                    and self.is_secret_key(k)
                ):
                    new: JSON = KEY_MASK
                else:
                    new = self._walk(scanner, v, depth + 1)
                if new is not v:
                    if out is None:
                        out = dict(value)
                    out[k] = new
            return value if out is None else out
        if isinstance(value, list | tuple):
            items: list[JSON] | None = None
            for i, v in enumerate(value):
                new = self._walk(scanner, v, depth + 1)
                if new is not v:
                    if items is None:
                        items = list(value)
                    items[i] = new
            return value if items is None else items
        return value

    def span(self, span: Span) -> Span:
        """The span with its inputs, outputs, attributes and error masked."""
        if self._scanner([span.inputs, span.outputs, span.attributes, span.error]) is None:
            return span
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
        """The run with its input, output, attributes, error and outcome reason masked."""
        texts = [run.error, run.outcome_reason]
        if self._scanner([run.input, run.output, run.attributes, *texts]) is None:
            return run
        inp = self.value(run.input)
        out = self.value(run.output)
        attributes = self.value(run.attributes) if run.attributes else run.attributes
        error, reason = (self.text(t) if t else t for t in texts)
        if (
            inp is run.input
            and out is run.output
            and attributes is run.attributes
            and error is run.error
            and reason is run.outcome_reason
        ):
            return run
        return replace(
            run, input=inp, output=out, attributes=attributes, error=error, outcome_reason=reason
        )


def check_extra_patterns(extra: Mapping[str, str], source: str) -> list[RedactionRule]:
    """User patterns as rules; a bad name or a pattern that does not compile names the setting."""
    rules: list[RedactionRule] = []
    for name, pattern in extra.items():
        if not isinstance(name, str) or not name.replace("_", "").isalnum():
            raise InputError(f"{source}: pattern name {name!r} must be letters, digits and _")
        if not isinstance(pattern, str):
            raise InputError(f"{source}: pattern {name!r} must be a string (a regex)")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InputError(f"{source}: pattern {name!r} does not compile: {exc}") from None
        rules.append(RedactionRule(name, pattern))
    return rules


def build_redactor(
    names: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
    sensitive_keys: Iterable[str] = (),
    source: str = "redaction",
    *,
    catalogue: Mapping[str, Sequence[RedactionRule]] = PURE_RULES,
    key_words: Iterable[str] = SECRET_KEY_WORDS,
) -> Redactor:
    """A redactor from named rule groups of ``catalogue`` plus ``extra`` named regexes.

    ``sensitive_keys`` are extra exact key names (normalized) masked whole, besides key names
    ending in one of ``key_words``. An unknown group name or a pattern that does not compile
    raises :class:`InputError` naming it.
    """
    rules: list[RedactionRule] = []
    for name in names:
        group = catalogue.get(name)
        if group is None:
            known = ", ".join(sorted(catalogue))
            raise InputError(f"{source}: unknown pattern group {name!r} (known: {known})")
        rules.extend(group)
    rules.extend(check_extra_patterns(extra or {}, source))
    words = tuple(key_words)
    return Redactor(
        tuple(rules),
        frozenset(normalize_key(k) for k in sensitive_keys),
        key_name_regex(words) if words else None,
        words,
    )


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


def _add_trigger(triggers: Any, pattern: str, index: int, ids: list[int]) -> bool:
    """Add ``pattern`` to the RE2 set for rule ``index``; False if RE2 cannot compile it."""
    try:
        triggers.Add(pattern)
    except Exception:  # lookarounds, backreferences: not RE2 syntax
        return False
    ids.append(index)
    return True
