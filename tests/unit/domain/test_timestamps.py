"""Strict RFC 3339 parsing, the canonical UTC form, exact microseconds and ISO 8601 durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import (
    format_duration,
    format_timestamp,
    from_micros,
    parse_duration,
    parse_timestamp,
    to_micros,
)

aware_datetimes = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


def test_parses_z_as_utc() -> None:
    assert parse_timestamp("2025-01-16T14:30:00Z") == datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def test_result_is_in_utc() -> None:
    assert parse_timestamp("2025-01-16T14:30:00+05:30").tzinfo is UTC


def test_positive_offset_is_subtracted() -> None:
    assert parse_timestamp("2025-01-16T20:00:00+05:30") == datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def test_negative_offset_is_added() -> None:
    assert parse_timestamp("2025-01-16T06:30:00-08:00") == datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def test_negative_zero_offset_is_utc() -> None:
    assert parse_timestamp("2025-01-16T14:30:00-00:00") == datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2025-01-16t14:30:00z", "2025-01-16 14:30:00Z"])
def test_lowercase_and_space_separators_are_accepted(text: str) -> None:
    assert parse_timestamp(text) == datetime(2025, 1, 16, 14, 30, tzinfo=UTC)


def test_nanoseconds_are_truncated_not_rounded() -> None:
    assert parse_timestamp("2025-01-16T14:30:00.123456999Z").microsecond == 123456


def test_short_fraction_is_scaled() -> None:
    assert parse_timestamp("2025-01-16T14:30:00.5Z").microsecond == 500000


def test_date_rolls_over_with_offset() -> None:
    assert parse_timestamp("2025-01-01T01:00:00+02:00") == datetime(2024, 12, 31, 23, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-16T14:30:00",  # no offset
        "2025-01-16",  # date only
        "2025-01-16T14:30Z",  # no seconds
        "2025-01-16T14:30:00.Z",  # empty fraction
        "2025-1-16T14:30:00Z",  # one-digit month
        "2025-01-16T14:30:00+0530",  # offset without colon
        "2025-01-16T14:30:00+05",  # offset without minutes
        "2025-01-16T14:30:00+24:00",  # offset hour out of range
        "2025-01-16T14:30:00+05:60",  # offset minute out of range
        "2025-02-30T00:00:00Z",  # no such day
        "2025-01-16T24:00:00Z",  # hour out of range
        "2025-01-16T14:60:00Z",  # minute out of range
        "2016-12-31T23:59:60Z",  # leap second
        "0000-01-01T00:00:00Z",  # year zero
        "0001-01-01T00:00:00+01:00",  # before datetime.min in UTC
        "9999-12-31T23:59:59-01:00",  # after datetime.max in UTC
        "2025-01-16T14:30:00ZZ",  # trailing garbage
        " 2025-01-16T14:30:00Z",  # leading space
        "\uff12\uff10\uff12\uff15-01-16T14:30:00Z",  # non-ASCII digits
        "2025-01-16T14:30:00Z\n",  # trailing newline
        "",
    ],
)
def test_rejects_non_rfc3339_text(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_timestamp(text)
    assert info.value.code == "invalid_timestamp"


def test_rejects_non_string() -> None:
    with pytest.raises(ValidationError):
        parse_timestamp(1700000000)  # type: ignore[arg-type]


def test_format_always_has_six_fraction_digits() -> None:
    assert format_timestamp(datetime(2025, 1, 16, 14, 30, tzinfo=UTC)) == (
        "2025-01-16T14:30:00.000000Z"
    )


def test_format_converts_to_utc() -> None:
    ts = datetime(2025, 1, 16, 20, 0, 0, 7, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    assert format_timestamp(ts) == "2025-01-16T14:30:00.000007Z"


def test_format_pads_small_years() -> None:
    assert format_timestamp(datetime(33, 1, 1, tzinfo=UTC)) == "0033-01-01T00:00:00.000000Z"


def test_format_rejects_naive() -> None:
    with pytest.raises(ValueError):
        format_timestamp(datetime(2025, 1, 16))


@given(aware_datetimes)
def test_format_then_parse_round_trips(ts: datetime) -> None:
    assert parse_timestamp(format_timestamp(ts)) == ts


def test_to_micros_of_epoch_is_zero() -> None:
    assert to_micros(datetime(1970, 1, 1, tzinfo=UTC)) == 0


def test_to_micros_is_exact_far_from_epoch() -> None:
    ts = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert to_micros(ts) == 253402300799999999


def test_to_micros_before_epoch_is_negative() -> None:
    assert to_micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1


def test_to_micros_rejects_naive() -> None:
    with pytest.raises(ValueError):
        to_micros(datetime(2025, 1, 1))


def test_from_micros_is_utc() -> None:
    assert from_micros(1_700_000_000_000_001) == datetime(2023, 11, 14, 22, 13, 20, 1, tzinfo=UTC)


@given(aware_datetimes)
def test_micros_round_trip(ts: datetime) -> None:
    assert from_micros(to_micros(ts)) == ts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT48H", timedelta(hours=48)),
        ("P2D", timedelta(days=2)),
        ("PT30M", timedelta(minutes=30)),
        ("P1DT12H", timedelta(hours=36)),
        ("PT0S", timedelta(0)),
        ("P1W", timedelta(days=7)),
        ("PT1H30M15S", timedelta(hours=1, minutes=30, seconds=15)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("PT1,25S", timedelta(seconds=1, milliseconds=250)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "P1Y",
        "P1M",
        "P1Y2M3D",
        "P",
        "PT",
        "P1DT",
        "-PT1H",
        "pt1h",
        "PT1.5H",
        "PT0.0000001S",
        "PT1H ",
        "1H",
        "PT1S2M",
        "",
        "P99999999999D",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_duration(text)
    assert info.value.code == "invalid_duration"


@pytest.mark.parametrize(
    ("td", "expected"),
    [
        (timedelta(hours=48), "PT48H"),
        (timedelta(0), "PT0S"),
        (timedelta(minutes=30), "PT30M"),
        (timedelta(hours=1, seconds=5), "PT1H5S"),
        (timedelta(seconds=1, microseconds=500000), "PT1.5S"),
        (timedelta(microseconds=1), "PT0.000001S"),
    ],
)
def test_format_duration(td: timedelta, expected: str) -> None:
    assert format_duration(td) == expected


def test_format_duration_rejects_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(timedelta(seconds=-1))


@given(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=100000)))
def test_duration_round_trips(td: timedelta) -> None:
    assert parse_duration(format_duration(td)) == td
