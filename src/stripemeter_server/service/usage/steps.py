"""A history's buckets as steps of one width (ADR 0955), for the store to bucket events by
arithmetic instead of a time-zone computation per event."""

from __future__ import annotations

from stripemeter_server.domain.periods import Period
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
