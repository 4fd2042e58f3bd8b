"""Calendar arithmetic for billing periods (pure): month steps keep the anchor's day,
clamped to the month's length, the way Stripe bills on the 31st."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta


def add_interval(ts: int, interval: str, count: int, anchor_day: int | None = None) -> int:
    """`ts` plus `count` intervals; months/years honour the anchor's day of month."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    if interval == "day":
        return int((dt + timedelta(days=count)).timestamp())
    if interval == "week":
        return int((dt + timedelta(weeks=count)).timestamp())
    months = count * (12 if interval == "year" else 1)
    if interval not in ("month", "year"):
        raise ValueError(f"unknown interval {interval}")
    index = dt.month - 1 + months
    year, month = dt.year + index // 12, index % 12 + 1
    day = min(anchor_day or dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def next_boundary(anchor: int, after: int, interval: str, count: int) -> int:
    """First period boundary strictly after `after` on the cycle defined by `anchor`."""
    day = datetime.fromtimestamp(anchor, tz=UTC).day
    boundary, steps = anchor, 0
    while boundary <= after:
        steps += 1
        boundary = add_interval(anchor, interval, count * steps, day)
    return boundary
