"""Billing periods across DST and other clock changes, and tiling properties."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stripemeter_server.domain.periods import (
    PeriodSpec,
    PeriodType,
    period_after,
    period_before,
    period_containing,
    periods_overlapping,
)
from tests.support.periods import bounds, spec, ts

# --- DST ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "instant", "start", "end"),
    [
        (
            "Europe/Berlin",
            "2025-03-30T12:00:00Z",
            "2025-03-30T00:00:00+01:00",
            "2025-03-31T00:00:00+02:00",
        ),
        (
            "Europe/Berlin",
            "2025-10-26T12:00:00Z",
            "2025-10-26T00:00:00+02:00",
            "2025-10-27T00:00:00+01:00",
        ),
        (
            "America/New_York",
            "2025-03-09T12:00:00Z",
            "2025-03-09T00:00:00-05:00",
            "2025-03-10T00:00:00-04:00",
        ),
        (
            "America/New_York",
            "2025-11-02T12:00:00Z",
            "2025-11-02T00:00:00-04:00",
            "2025-11-03T00:00:00-05:00",
        ),
    ],
)
def test_day_across_dst(tz: str, instant: str, start: str, end: str) -> None:
    assert bounds(spec("day", tz), instant) == (ts(start), ts(end))


def test_spring_forward_day_is_23_hours() -> None:
    start, end = bounds(spec("day", "Europe/Berlin"), "2025-03-30T12:00:00Z")
    assert end - start == timedelta(hours=23)


def test_fall_back_day_is_25_hours() -> None:
    start, end = bounds(spec("day", "America/New_York"), "2025-11-02T12:00:00Z")
    assert end - start == timedelta(hours=25)


def test_lord_howe_spring_forward_day_is_23_and_a_half_hours() -> None:
    start, end = bounds(spec("day", "Australia/Lord_Howe"), "2024-10-06T06:00:00Z")
    assert end - start == timedelta(hours=23, minutes=30)


def test_lord_howe_fall_back_day_is_24_and_a_half_hours() -> None:
    start, end = bounds(spec("day", "Australia/Lord_Howe"), "2024-04-07T06:00:00Z")
    assert end - start == timedelta(hours=24, minutes=30)


def test_repeated_hour_first_occurrence_is_its_own_period() -> None:
    assert bounds(spec("hour", "America/New_York"), "2025-11-02T01:30:00-04:00") == (
        ts("2025-11-02T01:00:00-04:00"),
        ts("2025-11-02T01:00:00-05:00"),
    )


def test_repeated_hour_second_occurrence_is_its_own_period() -> None:
    assert bounds(spec("hour", "America/New_York"), "2025-11-02T01:30:00-05:00") == (
        ts("2025-11-02T01:00:00-05:00"),
        ts("2025-11-02T02:00:00-05:00"),
    )


def test_repeated_hour_in_berlin_is_two_periods() -> None:
    s = spec("hour", "Europe/Berlin")
    first = period_containing(s, ts("2025-10-26T02:15:00+02:00"))
    assert period_after(s, first) == period_containing(s, ts("2025-10-26T02:15:00+01:00"))


def test_skipped_hour_does_not_exist() -> None:
    # 02:00-03:00 does not exist on that night: 01:00 EST is followed by 03:00 EDT.
    assert bounds(spec("hour", "America/New_York"), "2025-03-09T01:59:59-05:00") == (
        ts("2025-03-09T01:00:00-05:00"),
        ts("2025-03-09T03:00:00-04:00"),
    )


def test_lord_howe_hour_before_half_hour_fall_back() -> None:
    # At 02:00 (+11:00) clocks go back to 01:30 (+10:30).
    assert bounds(spec("hour", "Australia/Lord_Howe"), "2024-04-07T01:45:00+11:00") == (
        ts("2024-04-07T01:00:00+11:00"),
        ts("2024-04-07T01:30:00+10:30"),
    )


def test_lord_howe_repeated_half_hour_is_its_own_period() -> None:
    assert bounds(spec("hour", "Australia/Lord_Howe"), "2024-04-07T01:45:00+10:30") == (
        ts("2024-04-07T01:30:00+10:30"),
        ts("2024-04-07T02:00:00+10:30"),
    )


def test_lord_howe_partly_skipped_hour_starts_at_first_existing_instant() -> None:
    # At 02:00 (+10:30) clocks jump to 02:30 (+11:00).
    assert bounds(spec("hour", "Australia/Lord_Howe"), "2024-10-06T02:40:00+11:00") == (
        ts("2024-10-06T02:30:00+11:00"),
        ts("2024-10-06T03:00:00+11:00"),
    )


def test_lord_howe_hour_before_spring_forward_ends_at_jump() -> None:
    assert bounds(spec("hour", "Australia/Lord_Howe"), "2024-10-06T01:40:00+10:30") == (
        ts("2024-10-06T01:00:00+10:30"),
        ts("2024-10-06T02:30:00+11:00"),
    )


def test_skipped_midnight_in_santiago_starts_at_first_existing_instant() -> None:
    # 2024-09-08 00:00 (-04:00) jumps to 01:00 (-03:00).
    assert bounds(spec("day", "America/Santiago"), "2024-09-08T12:00:00Z") == (
        ts("2024-09-08T01:00:00-03:00"),
        ts("2024-09-09T00:00:00-03:00"),
    )


def test_skipped_midnight_in_beirut_starts_at_first_existing_instant() -> None:
    assert bounds(spec("day", "Asia/Beirut"), "2024-03-31T12:00:00Z")[0] == ts(
        "2024-03-31T01:00:00+03:00"
    )


def test_day_before_skipped_midnight_ends_at_the_jump() -> None:
    assert bounds(spec("day", "America/Santiago"), "2024-09-07T12:00:00Z")[1] == ts(
        "2024-09-08T01:00:00-03:00"
    )


def test_month_starting_on_skipped_midnight() -> None:
    assert bounds(spec("month", "America/Santiago", 8), "2024-09-20T00:00:00Z")[0] == ts(
        "2024-09-08T01:00:00-03:00"
    )


def test_repeated_midnight_starts_day_at_first_occurrence() -> None:
    # Havana: 2024-11-03 01:00 (-04:00) goes back to 00:00 (-05:00); midnight happens twice.
    assert bounds(spec("day", "America/Havana"), "2024-11-03T00:30:00-05:00") == (
        ts("2024-11-03T00:00:00-04:00"),
        ts("2024-11-04T00:00:00-05:00"),
    )


def test_skipped_calendar_day_has_no_period() -> None:
    # Samoa skipped 2011-12-30: the day after the 29th is the 31st.
    s = spec("day", "Pacific/Apia")
    dec29 = period_containing(s, ts("2011-12-29T12:00:00-10:00"))
    assert period_after(s, dec29).start == ts("2011-12-31T00:00:00+14:00")


def test_clock_set_back_across_midnight_stays_in_the_new_day() -> None:
    # Goose Bay, 1987-10-25: at 00:01 (-03:00) clocks went back to 23:01 (-04:00) of the 24th.
    assert bounds(spec("day", "America/Goose_Bay"), "1987-10-24T23:30:00-04:00") == (
        ts("1987-10-25T00:00:00-03:00"),
        ts("1987-10-26T00:00:00-04:00"),
    )


def test_hour_before_a_jump_past_the_next_hour_top_ends_at_the_jump() -> None:
    # Detroit, 1967-06-14: at 00:01 (-05:00) clocks jumped to 01:01 (-04:00).
    assert bounds(spec("hour", "America/Detroit"), "1967-06-14T00:00:30-05:00") == (
        ts("1967-06-14T00:00:00-05:00"),
        ts("1967-06-14T01:01:00-04:00"),
    )


def test_jump_inside_one_hour_does_not_split_it() -> None:
    # Athens, 1916-07-28: at 00:01 (+01:34:52) clocks jumped to 00:26:08 (+02:00).
    assert bounds(spec("hour", "Europe/Athens"), "1916-07-28T00:30:00+02:00") == (
        ts("1916-07-27T22:25:08Z"),
        ts("1916-07-28T01:00:00+02:00"),
    )


# --- properties ---------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/Santiago",
    "Asia/Beirut",
    "America/Havana",
    "Pacific/Apia",
    "Pacific/Chatham",
    "Asia/Tehran",
    "Antarctica/Troll",
    "Europe/Dublin",
    "America/St_Johns",
]

specs = st.builds(
    PeriodSpec,
    st.sampled_from(list(PeriodType)),
    st.integers(min_value=1, max_value=31),
    st.sampled_from(ZONES),
)
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)


@given(specs, instants)
def test_property_containing_period_contains_instant(s: PeriodSpec, instant: datetime) -> None:
    assert period_containing(s, instant).contains(instant)


@given(specs, instants)
def test_property_next_period_starts_at_end(s: PeriodSpec, instant: datetime) -> None:
    p = period_containing(s, instant)
    assert period_after(s, p).start == p.end


@given(specs, instants)
def test_property_previous_period_ends_at_start(s: PeriodSpec, instant: datetime) -> None:
    p = period_containing(s, instant)
    assert period_before(s, p).end == p.start


@given(specs, instants)
def test_property_every_instant_of_a_period_maps_to_it(s: PeriodSpec, instant: datetime) -> None:
    p = period_containing(s, instant)
    last = p.end - timedelta(microseconds=1)
    assert (period_containing(s, p.start), period_containing(s, last)) == (p, p)


@given(specs, instants)
def test_property_start_is_on_the_local_grid_or_at_a_transition(
    s: PeriodSpec, instant: datetime
) -> None:
    zone = ZoneInfo(s.timezone)
    zone_start = period_containing(s, instant).start.astimezone(zone)
    before = (zone_start - timedelta(microseconds=1)).astimezone(zone)
    on_grid = (zone_start.minute, zone_start.second, zone_start.microsecond) == (0, 0, 0) and (
        s.type is PeriodType.HOUR or zone_start.hour == 0
    )
    assert on_grid or before.utcoffset() != zone_start.utcoffset()


@settings(max_examples=50)
@given(specs, instants, st.integers(min_value=1, max_value=24 * 90))
def test_property_periods_tile_a_range(s: PeriodSpec, start: datetime, hours: int) -> None:
    end = start + timedelta(hours=hours)
    got = periods_overlapping(s, start, end)
    assert got[0].contains(start) and got[-1].contains(end - timedelta(microseconds=1))
    assert all(a.end == b.start for a, b in itertools.pairwise(got))
