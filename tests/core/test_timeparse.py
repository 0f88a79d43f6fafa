"""The one grammar for times and durations: round trips (Hypothesis), nanoseconds kept exactly,
relative times against a given now, and errors naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentdeck.core.errors import InputError
from agentdeck.core.timeparse import (
    format_duration,
    format_time_ns,
    parse_duration,
    parse_time,
    parse_time_ns,
    time_of_ns,
)

# 1970 .. 9999: what ISO 8601 with a four-digit year can name.
NS = st.integers(min_value=0, max_value=2**63 - 1)  # what a span's 64-bit time holds
DURATIONS = st.builds(timedelta, seconds=st.integers(min_value=1, max_value=3653 * 86_400))


@given(NS)
def test_iso_with_nine_fraction_digits_round_trips_to_the_nanosecond(ns: int) -> None:
    assert parse_time_ns(format_time_ns(ns)) == ns


@given(NS)
def test_integer_nanoseconds_round_trip_exactly(ns: int) -> None:
    assert parse_time_ns(str(ns), "query.since") == ns


@given(NS)
def test_datetime_form_agrees_with_the_nanoseconds_to_the_microsecond(ns: int) -> None:
    value = parse_time(format_time_ns(ns))
    assert value.tzinfo is UTC or value.utcoffset() == timedelta(0)
    assert value == time_of_ns(ns)
    as_ns = (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    assert ns - as_ns in range(1000)


@given(DURATIONS)
def test_durations_round_trip(value: timedelta) -> None:
    assert parse_duration(format_duration(value)) == value


def test_nanoseconds_survive_where_a_float_would_lose_them() -> None:
    ns = 1_740_830_400_123_456_789  # 2025-03-01T12:00:00.123456789Z
    assert int(float(ns) / 1e9 * 1e9) != ns  # the old path through float seconds
    assert parse_time_ns(str(ns)) == ns
    assert parse_time_ns("2025-03-01T12:00:00.123456789Z") == ns
    assert parse_time_ns("2025-03-01T13:00:00.123456789+01:00") == ns
    assert parse_time_ns("2025-03-01T12:00:00.123456789") == ns  # no zone: UTC
    assert parse_time_ns("2025-03-01T12:00:00.1234Z") == ns - 56_789
    assert format_time_ns(ns) == "2025-03-01T12:00:00.123456789Z"


def test_now_and_relative_times_count_back_from_now() -> None:
    now = 1_740_830_400_123_456_789
    assert parse_time_ns("now", now_ns=now) == now
    assert parse_time_ns("-15m", now_ns=now) == now - 15 * 60 * 10**9
    assert parse_time_ns(" -2w ", now_ns=now) == now - 14 * 86_400 * 10**9
    assert parse_time("-1h", now_ns=now) == time_of_ns(now) - timedelta(hours=1)


@pytest.mark.parametrize("text", ["soon", "-", "-0m", "-15x", "2025-13-01", "1.5", ""])
def test_bad_times_name_the_field(text: str) -> None:
    with pytest.raises(InputError, match=r"^query\.since: .* is not a time \(ISO 8601"):
        parse_time_ns(text, "query.since")


@pytest.mark.parametrize("text", ["soon", "0s", "15", "1.5h", "-1h", "15 m"])
def test_bad_durations_name_the_field(text: str) -> None:
    with pytest.raises(InputError, match=r"^--window: .* is not a duration like 90s"):
        parse_duration(text, "--window")


@pytest.mark.parametrize("text", [str(2**63), "9" * 30, "9999-12-31T23:59:59Z"])
def test_times_past_64_bit_nanoseconds_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InputError, match=r"^query\.until: .* outside the 64-bit nanosecond range"):
        parse_time_ns(text, "query.until")


def test_durations_longer_than_ten_years_are_refused() -> None:
    with pytest.raises(InputError, match=r"^--window: '99999999999w' is longer than ten years"):
        parse_duration("99999999999w")
