"""Billing periods: half-open UTC intervals cut at local wall-clock boundaries.

A period is ``[start, end)``. Its boundaries follow the wall clock of an IANA time zone, so a
local day across a DST change lasts 23 or 25 hours, and a boundary whose local time does not
exist (a skipped midnight or hour) falls on the first instant that does exist after it. At a
fall-back, the repeated local hour makes two distinct ``hour`` periods, while ``day``, ``week``
and ``month`` periods begin at the first occurrence of their local midnight.

This runs once per ingested event: local boundaries are resolved once and cached.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, available_timezones

from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.timestamps import from_micros, to_micros

__all__ = [
    "Period",
    "PeriodSpec",
    "PeriodType",
    "period_after",
    "period_before",
    "period_containing",
    "periods_overlapping",
    "with_customer_overrides",
]

_MICROSECOND = timedelta(microseconds=1)
_HOUR = timedelta(hours=1)


class PeriodType(StrEnum):
    MONTH = "month"
    WEEK = "week"
    DAY = "day"
    HOUR = "hour"


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    # available_timezones() leaves out the "posix/" and "right/" copies; "right/" zones count
    # leap seconds and would shift every boundary.
    return frozenset(available_timezones())


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """How a metric (or one customer) cuts time into billing periods."""

    type: PeriodType
    anchor_day: int = 1  # month only: the period starts on min(anchor_day, days in month)
    timezone: str = "UTC"  # IANA name

    def __post_init__(self) -> None:
        try:
            period_type = PeriodType(self.type)
        except ValueError:
            raise ValidationError(
                f"unknown period type {self.type!r}; use month, week, day or hour",
                code="invalid_period",
                field="period.type",
            ) from None
        object.__setattr__(self, "type", period_type)
        anchor = self.anchor_day
        if isinstance(anchor, bool) or not isinstance(anchor, int) or not 1 <= anchor <= 31:
            raise ValidationError(
                f"anchor day must be an integer 1..31, not {anchor!r}",
                code="invalid_period",
                field="period.anchorDay",
            )
        if not isinstance(self.timezone, str) or self.timezone not in _known_zones():
            raise ValidationError(
                f"unknown time zone {self.timezone!r}; use an IANA name such as Europe/Berlin",
                code="invalid_period",
                field="period.timezone",
            )


@dataclass(frozen=True, slots=True)
class Period:
    """``[start, end)`` in aware UTC instants."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("period bounds must be aware datetimes")
        if not self.start < self.end:
            raise ValueError(f"period start {self.start} is not before its end {self.end}")

    def contains(self, instant: datetime) -> bool:
        return self.start <= instant < self.end


def period_containing(spec: PeriodSpec, instant: datetime) -> Period:
    """The period of ``spec`` that contains ``instant`` (an aware datetime)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: a time zone is required")
    instant = instant.astimezone(UTC)
    if spec.type is PeriodType.HOUR:
        return _hour_period(instant, _zone(spec.timezone))
    return _calendar_period(spec, instant)


def period_after(spec: PeriodSpec, period: Period) -> Period:
    """The period that starts where ``period`` ends."""
    return period_containing(spec, period.end)


def period_before(spec: PeriodSpec, period: Period) -> Period:
    """The period that ends where ``period`` starts."""
    return period_containing(spec, period.start - _MICROSECOND)


def periods_overlapping(
    spec: PeriodSpec,
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
    field: str = "from",
) -> list[Period]:
    """Every period that shares at least one instant with ``[start, end)``, in order.

    With ``limit``, stops as soon as the range turns out to span more periods and raises
    ``range_too_large``: a client's range never makes the server build more than that.
    """
    if not start < end:
        return []
    periods = [period_containing(spec, start)]
    while periods[-1].end < end:
        if limit is not None and len(periods) >= limit:
            raise ValidationError(
                f"the range spans more than {limit} {spec.type.value} periods; "
                "ask for a shorter range",
                code="range_too_large",
                field=field,
            )
        periods.append(period_containing(spec, periods[-1].end))
    return periods


def with_customer_overrides(
    spec: PeriodSpec, anchor_day: int | None, timezone: str | None
) -> PeriodSpec:
    """The metric's spec with the customer's own anchor and time zone where they have one."""
    if anchor_day is None and timezone is None:
        return spec
    return replace(
        spec,
        anchor_day=spec.anchor_day if anchor_day is None else anchor_day,
        timezone=spec.timezone if timezone is None else timezone,
    )


# --- day, week, month --------------------------------------------------------------------


def _calendar_period(spec: PeriodSpec, instant: datetime) -> Period:
    local_date = instant.astimezone(_zone(spec.timezone)).date()
    label = _floor_label(spec, local_date)
    start, end = _label_bounds(spec, label)
    # Only a clock set back across a boundary moves the instant out of its wall-clock label.
    while start > instant:
        label = _step_label(spec, label, -1)
        start, end = _label_bounds(spec, label)
    while end <= instant:
        label = _step_label(spec, label, 1)
        start, end = _label_bounds(spec, label)
    return Period(start, end)


@lru_cache(maxsize=8192)
def _label_bounds(spec: PeriodSpec, label: date) -> tuple[datetime, datetime]:
    """UTC start of the period labelled ``label`` and of the next one (may be equal when a
    whole local day was skipped)."""
    zone_name = spec.timezone
    following = _step_label(spec, label, 1)
    return _first_instant(label, zone_name), _first_instant(following, zone_name)


def _floor_label(spec: PeriodSpec, day: date) -> date:
    if spec.type is PeriodType.DAY:
        return day
    if spec.type is PeriodType.WEEK:
        return day - timedelta(days=day.weekday())
    anchor = _anchor_date(day.year, day.month, spec.anchor_day)
    if day >= anchor:
        return anchor
    year, month = _add_months(day.year, day.month, -1)
    return _anchor_date(year, month, spec.anchor_day)


def _step_label(spec: PeriodSpec, label: date, steps: int) -> date:
    if spec.type is PeriodType.DAY:
        return label + timedelta(days=steps)
    if spec.type is PeriodType.WEEK:
        return label + timedelta(days=7 * steps)
    year, month = _add_months(label.year, label.month, steps)
    return _anchor_date(year, month, spec.anchor_day)


def _add_months(year: int, month: int, steps: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + steps
    return index // 12, index % 12 + 1


def _anchor_date(year: int, month: int, anchor_day: int) -> date:
    return date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=8192)
def _first_instant(day: date, zone_name: str) -> datetime:
    """The first UTC instant at which the local wall clock reads ``day`` 00:00 or later."""
    zone = _zone(zone_name)
    local = datetime.combine(day, time())
    # fold=0 picks the earlier of two occurrences of an ambiguous local time.
    candidate = local.replace(tzinfo=zone).astimezone(UTC)
    if candidate.astimezone(zone).replace(tzinfo=None) == local:
        return candidate
    # Local midnight was skipped. In a gap, fold=0 resolves with the offset in force before
    # the transition (an instant after it) and fold=1 with the offset after (one before it).
    before = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _transition_between(before, candidate, zone)


def _transition_between(before: datetime, after: datetime, zone: ZoneInfo) -> datetime:
    """The first instant in ``(before, after]`` whose UTC offset is that of ``after``."""
    target = after.astimezone(zone).utcoffset()
    low, high = to_micros(before), to_micros(after)
    while high - low > 1:
        middle = (low + high) // 2
        if from_micros(middle).astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return from_micros(high)


# --- hour --------------------------------------------------------------------------------


def _hour_period(instant: datetime, zone: ZoneInfo) -> Period:
    local = instant.astimezone(zone)
    return Period(_hour_start(instant, zone, local), _hour_end(instant, zone, local))


def _into_hour(local: datetime) -> timedelta:
    return timedelta(minutes=local.minute, seconds=local.second, microseconds=local.microsecond)


def _starts_new_hour(before: datetime, after: datetime) -> bool:
    """Whether a change of UTC offset between two local readings is an hour boundary."""
    before_offset, after_offset = before.utcoffset(), after.utcoffset()
    jumped_forward = (
        before_offset is not None and after_offset is not None and after_offset > before_offset
    )
    same_hour = (before.date(), before.hour) == (after.date(), after.hour)
    # Skipping minutes inside one hour continues that hour. Otherwise either the hour's top
    # was skipped (it starts at the first instant that exists) or the clock was set back (the
    # repeated local time is a new, distinct hour).
    return not (jumped_forward and same_hour)


def _hour_start(instant: datetime, zone: ZoneInfo, local: datetime) -> datetime:
    """The last hour boundary at or before ``instant`` (``local`` is its local reading)."""
    start = instant - _into_hour(local)
    if start.astimezone(zone).utcoffset() == local.utcoffset():
        return start
    transition = _transition_between(start, instant, zone)
    just_before = (transition - _MICROSECOND).astimezone(zone)
    if _starts_new_hour(just_before, transition.astimezone(zone)):
        return transition
    return _hour_start(transition - _MICROSECOND, zone, just_before)


def _hour_end(instant: datetime, zone: ZoneInfo, local: datetime) -> datetime:
    """The first hour boundary after ``instant`` (``local`` is its local reading)."""
    # Where the wall clock reaches the next hour if the offset stays as it is.
    end = instant + (_HOUR - _into_hour(local))
    if end.astimezone(zone).utcoffset() == local.utcoffset():
        return end
    transition = _transition_between(instant, end, zone)
    after = transition.astimezone(zone)
    just_before = (transition - _MICROSECOND).astimezone(zone)
    if _starts_new_hour(just_before, after):
        return transition
    return _hour_end(transition, zone, after)
