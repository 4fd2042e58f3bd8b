"""Live counters: the running state one aggregation needs, mergeable in any order.

A counter is a cache of the ledger. Every field is order-independent (sum, count, max, min,
the latest value chosen by ``(ts, idempotency key)``, the distinct count), so applying the same
events in any order or batching yields the same state — the property the tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from stripemeter_server.domain.decimals import ZERO, add, div, sub
from stripemeter_server.domain.metrics import Aggregation


class Contribution(NamedTuple):
    """What one accepted event adds to its counter (a tuple: one is built per event folded,
    and a frozen dataclass's ``__init__`` cost several times a tuple's)."""

    value: Decimal
    ts_us: int
    key: str
    is_new_unique: bool = False


@dataclass(slots=True)
class CounterState:
    count: int = 0
    sum: Decimal = ZERO
    max: Decimal | None = None
    min: Decimal | None = None
    latest_value: Decimal | None = None
    latest_ts_us: int | None = None
    latest_key: str | None = None
    unique_count: int = 0
    adjustments: Decimal = ZERO
    late_out: Decimal = ZERO
    watermark_us: int | None = None
    late_count: int = 0

    def apply(self, c: Contribution) -> bool:
        """Fold one event in; returns True when it is older than the watermark (late)."""
        late = self.watermark_us is not None and c.ts_us < self.watermark_us
        if late:
            self.late_count += 1
        if self.watermark_us is None or c.ts_us > self.watermark_us:
            self.watermark_us = c.ts_us
        self.count += 1
        self.sum = add(self.sum, c.value)
        if self.max is None or c.value > self.max:
            self.max = c.value
        if self.min is None or c.value < self.min:
            self.min = c.value
        if self.latest_ts_us is None or (c.ts_us, c.key) > (
            self.latest_ts_us,
            self.latest_key or "",
        ):
            self.latest_value, self.latest_ts_us, self.latest_key = c.value, c.ts_us, c.key
        if c.is_new_unique:
            self.unique_count += 1
        return late

    def aggregate(self, aggregation: Aggregation) -> Decimal | None:
        """The aggregation over the events alone (no adjustments)."""
        match aggregation:
            case Aggregation.COUNT:
                return Decimal(self.count)
            case Aggregation.SUM:
                return self.sum
            case Aggregation.MAX:
                return self.max
            case Aggregation.MIN:
                return self.min
            case Aggregation.LATEST:
                return self.latest_value
            case Aggregation.UNIQUE_COUNT:
                return Decimal(self.unique_count)
            case Aggregation.AVG:
                return div(self.sum, Decimal(self.count)) if self.count else None
        raise AssertionError(aggregation)  # pragma: no cover

    def value(self, aggregation: Aggregation) -> Decimal | None:
        """Billable value: aggregate + adjustments - effects moved out by late events.

        An empty max/min/latest/avg stays null unless corrections give it a value.
        """
        base = self.aggregate(aggregation)
        corrections = sub(self.adjustments, self.late_out)
        if base is None:
            return corrections if corrections != ZERO else None
        return add(base, corrections)


def value_delta(before: Decimal | None, after: Decimal | None) -> Decimal:
    """How much a change moved a value, treating null as zero."""
    return sub(after if after is not None else ZERO, before if before is not None else ZERO)
