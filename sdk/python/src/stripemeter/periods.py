"""Billing periods, computed like the server does (UTC, month anchored on a day).

A monthly period anchored on day ``d`` starts on day ``min(d, days in that month)`` at
00:00 UTC, so anchor 31 means "the last day" of shorter months (30 April, 28/29 February).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["BillingPeriod", "current_billing_period", "last_billing_period"]


@dataclass(frozen=True, slots=True)
class BillingPeriod:
    """A half-open interval ``[start, end)`` of aware UTC datetimes."""

    start: datetime
    end: datetime

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end


def _anchor(year: int, month: int, anchor_day: int) -> datetime:
    day = min(anchor_day, calendar.monthrange(year, month)[1])
    return datetime(year, month, day, tzinfo=UTC)


def _shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _check(anchor_day: int) -> None:
    if isinstance(anchor_day, bool) or not isinstance(anchor_day, int):
        raise TypeError("anchor_day must be an int")
    if not 1 <= anchor_day <= 31:
        raise ValueError("anchor_day must be between 1 and 31")


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def current_billing_period(anchor_day: int = 1, now: datetime | None = None) -> BillingPeriod:
    """The monthly period (anchored on ``anchor_day``) that contains ``now`` (default: now)."""
    _check(anchor_day)
    instant = _now(now)
    year, month = instant.year, instant.month
    start = _anchor(year, month, anchor_day)
    if instant < start:
        year, month = _shift(year, month, -1)
        start = _anchor(year, month, anchor_day)
    end = _anchor(*_shift(year, month, 1), anchor_day)
    return BillingPeriod(start, end)


def last_billing_period(anchor_day: int = 1, now: datetime | None = None) -> BillingPeriod:
    """The monthly period just before :func:`current_billing_period`."""
    current = current_billing_period(anchor_day, now)
    year, month = _shift(current.start.year, current.start.month, -1)
    return BillingPeriod(_anchor(year, month, anchor_day), current.start)
