"""Which billing periods a reconciliation run compares, decided without I/O.

A run names its periods in one of two ways (``period`` of the API, ``--period`` of the CLI):

* ``YYYY-MM``: every period of the metric (for the customer's anchor and time zone) that
  **starts** in that calendar month, read in the period's own time zone — exactly one for a
  monthly metric, whatever its anchor day; every day of the month for a daily one;
* an RFC 3339 instant: the one period that contains it.

Without one, a run compares the **current** period and the **period just ended** while it is
still reconcilable: before it closes (``end + latenessWindow``), or — for the invoice flow —
while the invoice that billed it is still a draft (``previous_in_scope``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from stripemeter_server.domain.bounded import parse_instant
from stripemeter_server.domain.errors import ValidationError
from stripemeter_server.domain.periods import (
    Period,
    PeriodSpec,
    period_before,
    period_containing,
    periods_overlapping,
)

_MONTH = re.compile(r"([1-8][0-9]{3})-(0[1-9]|1[0-2])", re.ASCII)
# A month holds at most 31 * 24 + 1 hourly periods (a DST fall-back day adds an hour).
MAX_PERIODS_PER_SELECTOR = 31 * 25


@dataclass(frozen=True, slots=True)
class PeriodSelector:
    """Either a calendar month (``month``) or an instant (``instant``)."""

    month: tuple[int, int] | None = None
    instant: datetime | None = None

    @property
    def text(self) -> str:
        if self.month is not None:
            return f"{self.month[0]:04d}-{self.month[1]:02d}"
        assert self.instant is not None
        return self.instant.isoformat().replace("+00:00", "Z")


def parse_period_selector(raw: object, field: str = "period") -> PeriodSelector | None:
    """``None`` stays ``None``; ``YYYY-MM`` or an RFC 3339 instant; anything else names the
    field (bounded: years 1000 to 8999, as every instant the service accepts)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        found = _MONTH.fullmatch(raw)
        if found is not None:
            return PeriodSelector(month=(int(found.group(1)), int(found.group(2))))
        if "T" in raw:
            return PeriodSelector(instant=parse_instant(raw, field, code="invalid_period"))
    raise ValidationError(
        f"{field} must be a month (YYYY-MM) or an RFC 3339 instant",
        code="invalid_period",
        field=field,
    )


def _month_bounds(year: int, month: int, zone: str) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    return start, end


def selected_periods(spec: PeriodSpec, selector: PeriodSelector) -> list[Period]:
    """The periods a selector names for one spec (bounded by ``MAX_PERIODS_PER_SELECTOR``)."""
    if selector.instant is not None:
        return [period_containing(spec, selector.instant)]
    assert selector.month is not None
    start, end = _month_bounds(*selector.month, spec.timezone)
    found = periods_overlapping(spec, start, end, limit=MAX_PERIODS_PER_SELECTOR, field="period")
    tz = ZoneInfo(spec.timezone)
    return [
        p
        for p in found
        if (p.start.astimezone(tz).year, p.start.astimezone(tz).month) == selector.month
    ]


def default_periods(spec: PeriodSpec, now: datetime) -> tuple[Period, Period]:
    """(the current period, the period just ended)."""
    current = period_containing(spec, now)
    return current, period_before(spec, current)


def previous_in_scope(
    previous: Period, now: datetime, lateness: timedelta, *, locked: bool, invoice_draft: bool
) -> bool:
    """Whether the period just ended is still compared by a default run: its invoice is a
    draft (the gate's window), or it is neither locked nor past ``end + latenessWindow``."""
    if invoice_draft:
        return True
    return not locked and now < previous.end + lateness


def close_time(period: Period, lateness: timedelta) -> datetime:
    """When a period closes by time (``end + latenessWindow``): the scheduled run's anchor."""
    return period.end + lateness
