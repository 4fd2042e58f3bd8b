"""Billing periods: spec validation, anchors, boundaries and navigation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import (
    Period,
    PeriodSpec,
    PeriodType,
    period_after,
    period_before,
    period_containing,
    periods_overlapping,
    with_customer_overrides,
)
from tests.support.periods import bounds, spec, ts

# --- PeriodSpec and Period ---------------------------------------------------------------


def test_spec_defaults() -> None:
    assert PeriodSpec(PeriodType.MONTH) == PeriodSpec(PeriodType.MONTH, 1, "UTC")


def test_spec_accepts_type_as_text() -> None:
    assert PeriodSpec("week").type is PeriodType.WEEK  # type: ignore[arg-type]


def test_spec_rejects_unknown_type() -> None:
    with pytest.raises(ValidationError) as info:
        PeriodSpec("year")  # type: ignore[arg-type]
    assert (info.value.code, info.value.field) == ("invalid_period", "period.type")


@pytest.mark.parametrize("anchor", [0, 32, -1, True])
def test_spec_rejects_anchor_out_of_range(anchor: int) -> None:
    with pytest.raises(ValidationError) as info:
        PeriodSpec(PeriodType.MONTH, anchor)
    assert (info.value.code, info.value.field) == ("invalid_period", "period.anchorDay")


@pytest.mark.parametrize("tz", ["Mars/Olympus", "", "europe/berlin", "../etc/passwd", "Europe"])
def test_spec_rejects_unknown_time_zone(tz: str) -> None:
    with pytest.raises(ValidationError) as info:
        PeriodSpec(PeriodType.DAY, 1, tz)
    assert (info.value.code, info.value.field) == ("invalid_period", "period.timezone")


def test_spec_is_hashable() -> None:
    assert hash(spec("day", "Europe/Berlin")) == hash(spec("day", "Europe/Berlin"))


def test_overrides_replace_anchor_and_zone() -> None:
    assert with_customer_overrides(spec("month"), 15, "Asia/Tokyo") == spec(
        "month", "Asia/Tokyo", 15
    )


def test_overrides_none_keeps_metric_values() -> None:
    base = spec("month", "Europe/Berlin", 10)
    assert with_customer_overrides(base, None, None) == base


def test_override_of_zone_only_keeps_anchor() -> None:
    base = spec("month", "UTC", 10)
    assert with_customer_overrides(base, None, "Asia/Tokyo") == spec("month", "Asia/Tokyo", 10)


def test_invalid_override_is_rejected() -> None:
    with pytest.raises(ValidationError):
        with_customer_overrides(spec("month"), 40, None)


def test_period_contains_start() -> None:
    p = Period(ts("2025-01-01T00:00:00Z"), ts("2025-02-01T00:00:00Z"))
    assert p.contains(p.start)


def test_period_excludes_end() -> None:
    p = Period(ts("2025-01-01T00:00:00Z"), ts("2025-02-01T00:00:00Z"))
    assert not p.contains(p.end)


def test_period_rejects_empty_interval() -> None:
    with pytest.raises(ValueError):
        Period(ts("2025-01-01T00:00:00Z"), ts("2025-01-01T00:00:00Z"))


def test_period_rejects_naive_bounds() -> None:
    with pytest.raises(ValueError):
        Period(datetime(2025, 1, 1), datetime(2025, 2, 1))


def test_naive_instant_is_rejected() -> None:
    with pytest.raises(ValueError):
        period_containing(spec("day"), datetime(2025, 1, 1))


# --- boundaries ---------------------------------------------------------------------------


def test_instant_at_start_belongs_to_that_period() -> None:
    assert bounds(spec("month"), "2025-02-01T00:00:00Z") == (
        ts("2025-02-01T00:00:00Z"),
        ts("2025-03-01T00:00:00Z"),
    )


def test_instant_just_before_end_belongs_to_that_period() -> None:
    assert bounds(spec("month"), "2025-01-31T23:59:59.999999Z")[0] == ts("2025-01-01T00:00:00Z")


def test_instant_at_end_belongs_to_next_period() -> None:
    p = period_containing(spec("day"), ts("2025-01-01T12:00:00Z"))
    assert period_containing(spec("day"), p.end).start == p.end


def test_instant_offset_does_not_matter() -> None:
    assert bounds(spec("day"), "2025-01-02T01:00:00+02:00")[0] == ts("2025-01-01T00:00:00Z")


def test_result_is_in_utc() -> None:
    p = period_containing(spec("day", "Asia/Tokyo"), ts("2025-01-01T00:00:00Z"))
    assert p.start.tzinfo is UTC and p.end.tzinfo is UTC


@pytest.mark.parametrize(
    ("anchor", "instant", "start", "end"),
    [
        (31, "2024-02-15T00:00:00Z", "2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z"),
        (31, "2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z"),
        (31, "2023-02-28T00:00:00Z", "2023-02-28T00:00:00Z", "2023-03-31T00:00:00Z"),
        (31, "2023-04-30T12:00:00Z", "2023-04-30T00:00:00Z", "2023-05-31T00:00:00Z"),
        (31, "2023-05-30T12:00:00Z", "2023-04-30T00:00:00Z", "2023-05-31T00:00:00Z"),
        (30, "2024-02-29T12:00:00Z", "2024-02-29T00:00:00Z", "2024-03-30T00:00:00Z"),
        (30, "2023-02-27T12:00:00Z", "2023-01-30T00:00:00Z", "2023-02-28T00:00:00Z"),
        (30, "2023-03-29T12:00:00Z", "2023-02-28T00:00:00Z", "2023-03-30T00:00:00Z"),
        (29, "2024-02-28T12:00:00Z", "2024-01-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        (29, "2024-03-01T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-29T00:00:00Z"),
        (29, "2023-02-28T12:00:00Z", "2023-02-28T00:00:00Z", "2023-03-29T00:00:00Z"),
        (29, "2023-01-29T00:00:00Z", "2023-01-29T00:00:00Z", "2023-02-28T00:00:00Z"),
        (15, "2024-12-20T00:00:00Z", "2024-12-15T00:00:00Z", "2025-01-15T00:00:00Z"),
        (15, "2025-01-14T23:59:59Z", "2024-12-15T00:00:00Z", "2025-01-15T00:00:00Z"),
        (1, "2024-12-31T23:59:59Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"),
    ],
)
def test_month_anchor(anchor: int, instant: str, start: str, end: str) -> None:
    assert bounds(spec("month", anchor=anchor), instant) == (ts(start), ts(end))


def test_month_starts_at_local_midnight() -> None:
    s = spec("month", "America/New_York", 5)
    assert bounds(s, "2025-03-05T04:59:59Z") == (
        ts("2025-02-05T00:00:00-05:00"),
        ts("2025-03-05T00:00:00-05:00"),
    )


def test_month_across_dst_change_is_an_hour_short() -> None:
    start, end = bounds(spec("month", "Europe/Berlin"), "2025-03-15T00:00:00Z")
    assert (start, end) == (ts("2025-03-01T00:00:00+01:00"), ts("2025-04-01T00:00:00+02:00"))


def test_week_starts_monday_local() -> None:
    assert bounds(spec("week", "Europe/Berlin"), "2025-01-16T14:30:00Z") == (
        ts("2025-01-13T00:00:00+01:00"),
        ts("2025-01-20T00:00:00+01:00"),
    )


def test_week_sunday_night_local_is_previous_week() -> None:
    # Monday 01:00 UTC is still Sunday in New York.
    assert bounds(spec("week", "America/New_York"), "2025-01-20T01:00:00Z")[0] == ts(
        "2025-01-13T00:00:00-05:00"
    )


def test_day_in_kolkata_starts_at_half_past_utc() -> None:
    assert bounds(spec("day", "Asia/Kolkata"), "2025-01-16T18:29:59Z") == (
        ts("2025-01-15T18:30:00Z"),
        ts("2025-01-16T18:30:00Z"),
    )


def test_hour_in_kolkata_starts_at_half_past_utc() -> None:
    assert bounds(spec("hour", "Asia/Kolkata"), "2025-01-16T14:10:00Z") == (
        ts("2025-01-16T13:30:00Z"),
        ts("2025-01-16T14:30:00Z"),
    )


def test_hour_in_utc() -> None:
    assert bounds(spec("hour"), "2025-01-16T14:59:59.999999Z") == (
        ts("2025-01-16T14:00:00Z"),
        ts("2025-01-16T15:00:00Z"),
    )


# --- navigation ---------------------------------------------------------------------------


def test_period_after_month() -> None:
    s = spec("month", anchor=31)
    jan = period_containing(s, ts("2025-01-31T00:00:00Z"))
    assert period_after(s, jan) == Period(ts("2025-02-28T00:00:00Z"), ts("2025-03-31T00:00:00Z"))


def test_period_before_month() -> None:
    s = spec("month", anchor=31)
    mar = period_containing(s, ts("2025-03-31T00:00:00Z"))
    assert period_before(s, mar) == Period(ts("2025-02-28T00:00:00Z"), ts("2025-03-31T00:00:00Z"))


def test_periods_overlapping_includes_partial_ends() -> None:
    got = periods_overlapping(spec("day"), ts("2025-01-01T12:00:00Z"), ts("2025-01-03T00:00:01Z"))
    assert [p.start for p in got] == [
        ts("2025-01-01T00:00:00Z"),
        ts("2025-01-02T00:00:00Z"),
        ts("2025-01-03T00:00:00Z"),
    ]


def test_periods_overlapping_end_is_exclusive() -> None:
    got = periods_overlapping(spec("day"), ts("2025-01-01T00:00:00Z"), ts("2025-01-03T00:00:00Z"))
    assert len(got) == 2


def test_periods_overlapping_empty_range() -> None:
    assert (
        periods_overlapping(spec("day"), ts("2025-01-02T00:00:00Z"), ts("2025-01-01T00:00:00Z"))
        == []
    )
