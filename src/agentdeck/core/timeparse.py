"""One grammar for the times and durations users type (CLI options, API query and body fields).

Durations: a positive whole number and a unit, ``90s``, ``15m``, ``1h``, ``7d``, ``2w``.

Times, as integer nanoseconds since the Unix epoch (UTC), exactly:

- ISO 8601, with up to nine fractional digits (``2025-03-01T12:00:00.123456789Z``); a time
  without a zone is UTC;
- an integer: nanoseconds since the epoch (what spans carry);
- ``now``, or a duration before now: ``-15m``, ``-2h``, ``-7d``.

Parsing never goes through a float, so nanoseconds survive. Errors are :class:`InputError`
naming the option or request field (``--since``, ``query.since``) and the accepted forms.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from agentdeck.core.errors import InputError

__all__ = [
    "format_duration",
    "format_time_ns",
    "parse_duration",
    "parse_time",
    "parse_time_ns",
    "time_of_ns",
]

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_FRACTION = re.compile(r"^(.*T\d{2}:\d{2}:\d{2})\.(\d{1,9})(.*)$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS = 1_000_000_000

TIME_FORMS = "ISO 8601, nanoseconds since the epoch, 'now', or -15m/-2h/-7d"
DURATION_FORMS = "90s, 15m, 1h, 7d or 2w"

#: Longest duration: ten years (longer ones overflow date arithmetic, and mean nothing here).
MAX_DURATION = timedelta(days=3653)
_NS_RANGE = range(-(2**63), 2**63)  # what a span's 64-bit nanosecond field can hold


def parse_duration(text: str, field: str = "--window") -> timedelta:
    """``90s``, ``15m``, ``1h``, ``7d``, ``2w`` (a positive whole number of one unit)."""
    m = _DURATION.match(str(text).strip())
    if not m or int(m.group(1)) == 0:
        raise InputError(f"{field}: {text!r} is not a duration like {DURATION_FORMS}")
    seconds = int(m.group(1)) * _UNIT_S[m.group(2)]
    if seconds > MAX_DURATION.total_seconds():
        raise InputError(f"{field}: {text!r} is longer than ten years")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest text :func:`parse_duration` reads back as ``value`` (whole seconds, > 0)."""
    seconds = int(value.total_seconds())
    if seconds <= 0 or timedelta(seconds=seconds) != value:
        raise ValueError(f"{value!r} is not a positive whole number of seconds")
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_S[unit] == 0:
            return f"{seconds // _UNIT_S[unit]}{unit}"
    return f"{seconds}s"


def parse_time_ns(text: str, field: str = "--time", *, now_ns: int | None = None) -> int:
    """The time ``text`` names, in nanoseconds since the epoch (see the module docstring);
    refused unless it fits in 64 bits, as span times do."""
    ns = _parse_ns(str(text).strip(), text, field, now_ns)
    if ns not in _NS_RANGE:
        raise InputError(f"{field}: {text!r} is outside the 64-bit nanosecond range")
    return ns


def _parse_ns(t: str, text: str, field: str, now_ns: int | None) -> int:
    if t.isascii() and t.isdigit():
        if len(t) > 20:
            raise InputError(f"{field}: {text!r} is outside the 64-bit nanosecond range")
        return int(t)
    if t == "now" or t.startswith("-"):
        now = time.time_ns() if now_ns is None else now_ns
        if t == "now":
            return now
        try:
            ago = parse_duration(t[1:], field)
        except InputError:
            raise InputError(f"{field}: {text!r} is not a time ({TIME_FORMS})") from None
        return now - (ago.days * 86_400 + ago.seconds) * _NS
    return _iso_ns(t, text, field)


def parse_time(text: str, field: str = "--time", *, now_ns: int | None = None) -> datetime:
    """:func:`parse_time_ns` as an aware UTC datetime (microsecond precision, like datetime)."""
    return time_of_ns(parse_time_ns(text, field, now_ns=now_ns))


def time_of_ns(ns: int) -> datetime:
    """Nanoseconds since the epoch as an aware UTC datetime, truncated to microseconds."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


def format_time_ns(ns: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC with nine fractional digits."""
    seconds, frac = divmod(ns, _NS)
    whole = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{frac:09d}Z"


def _iso_ns(t: str, text: str, field: str) -> int:
    frac_ns = 0
    m = _FRACTION.match(t)
    if m:  # datetime keeps microseconds only: the fraction is read here, to the nanosecond
        t = m.group(1) + m.group(3)
        frac_ns = int(m.group(2).ljust(9, "0"))
    if t[-1:] in ("Z", "z"):
        t = t[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(t)
    except ValueError:
        raise InputError(f"{field}: {text!r} is not a time ({TIME_FORMS})") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1000 + frac_ns
