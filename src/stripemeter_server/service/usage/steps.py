"""A history's buckets, and the same as steps of one width (ADR 0955) for the store to
bucket events by arithmetic instead of a time-zone computation per event; the billing
period containing an instant, for current usage.

The buckets depend on the step, the zone and the range only, not on the customer: the
bench's history reads (every customer, this month day by day) spent ~11 % of their CPU
computing the same 31 days (ADR 0967), so they are kept, per step, zone and range, for
the process's life (a few hundred at most; a range past the limit is refused each time).
Likewise the period containing "now": the same for every read until it ends (``period_at``).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from stripemeter_server.domain.periods import (
    Period,
    PeriodSpec,
    period_containing,
    periods_overlapping,
)
from stripemeter_server.domain.timestamps import to_micros
from stripemeter_server.service.ports.events import StepGrid


def step_grid(buckets: list[Period]) -> StepGrid | None:
    """The buckets as steps of one width from the first start, if they are."""
    if not buckets:
        return None
    origin = to_micros(buckets[0].start)
    width = to_micros(buckets[0].end) - origin
    for index, bucket in enumerate(buckets):
        begins = origin + index * width
        if to_micros(bucket.start) != begins or to_micros(bucket.end) != begins + width:
            return None
    return StepGrid(origin, width)


@lru_cache(maxsize=512)
def history_buckets(
    spec: PeriodSpec, start: datetime, end: datetime, limit: int
) -> tuple[tuple[Period, ...], StepGrid | None]:
    """The periods of ``spec`` overlapping ``[start, end)`` (at most ``limit``: past it the
    range's ``range_too_large``, field ``step``) and, where they are, as one grid."""
    buckets = periods_overlapping(spec, start, end, limit=limit, field="step")
    return tuple(buckets), step_grid(buckets)


_CURRENT: dict[PeriodSpec, Period] = {}
_CURRENT_MAX = 1024  # specs (period type, anchor, zone); past it the dictionary starts over


def period_at(spec: PeriodSpec, instant: datetime) -> Period:
    """``period_containing(spec, instant)``, kept per spec while instants fall inside it: a
    current-usage read computes each metric's period for "now", which is the same period
    for every read until it ends (ADR 0967). Two threads racing compute the same value."""
    found = _CURRENT.get(spec)
    if found is not None and found.start <= instant < found.end:
        return found
    found = period_containing(spec, instant)
    if len(_CURRENT) >= _CURRENT_MAX:
        _CURRENT.clear()
    _CURRENT[spec] = found
    return found
