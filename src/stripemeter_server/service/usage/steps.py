"""A history's buckets, and the same as steps of one width (ADR 0955) for the store to
bucket events by arithmetic instead of a time-zone computation per event.

The buckets depend on the step, the zone and the range only, not on the customer: the
bench's history reads (every customer, this month day by day) spent ~11 % of their CPU
computing the same 31 days (ADR 0967), so they are kept, per step, zone and range, for
the process's life (a few hundred at most; a range past the limit is refused each time).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from stripemeter_server.domain.periods import Period, PeriodSpec, periods_overlapping
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
