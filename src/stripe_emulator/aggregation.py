"""Pure meter aggregation: windows, alignment rules and the `sum|count|last` formulas.

Kept free of I/O so it can be unit-tested directly.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from stripe_emulator.errors import invalid

FORMULAS = ("sum", "count", "last")
WINDOW_SECONDS = {"hour": 3600, "day": 86400}
# Grouped summaries list every window, empty ones too; this bounds one query's memory.
MAX_WINDOWS = 50_000


@dataclass(frozen=True)
class UsageEvent:
    """One accepted, not-cancelled meter event as far as aggregation cares."""

    timestamp: int
    value: Decimal
    seq: int


@dataclass(frozen=True)
class Bucket:
    start: int
    end: int
    value: Decimal


def check_range(start: int, end: int, window: str | None) -> None:
    """Stripe's alignment rules for event summary queries."""
    if start % 60:
        raise invalid("start_time must be aligned with minute boundaries", param="start_time")
    if end % 60:
        raise invalid("end_time must be aligned with minute boundaries", param="end_time")
    if end <= start:
        raise invalid("start_time must be before end_time", param="start_time")
    if window is None:
        return
    if window not in WINDOW_SECONDS:
        raise invalid(
            f"Invalid value_grouping_window: must be one of hour, day (got {window})",
            param="value_grouping_window",
        )
    size = WINDOW_SECONDS[window]
    if (end - start) // size > MAX_WINDOWS:
        raise invalid(
            f"The range from start_time to end_time spans more than {MAX_WINDOWS} "
            f"{window} windows; query a shorter range.",
            param="end_time",
        )
    if start % size:
        raise invalid(
            f"start_time must be aligned with {window} boundaries when "
            f"value_grouping_window is {window}",
            param="start_time",
        )
    if end % size:
        raise invalid(
            f"end_time must be aligned with {window} boundaries when "
            f"value_grouping_window is {window}",
            param="end_time",
        )


def aggregate(formula: str, events: list[UsageEvent]) -> Decimal:
    """Apply a meter formula to the events of one window."""
    if not events:
        return Decimal(0)
    if formula == "count":
        return Decimal(len(events))
    if formula == "last":
        return max(events, key=lambda e: (e.timestamp, e.seq)).value
    return sum((e.value for e in events), Decimal(0))


def summarize(
    formula: str, events: list[UsageEvent], start: int, end: int, window: str | None
) -> list[Bucket]:
    """Buckets oldest first, as Stripe lists them: without a window one bucket always,
    with one every window of the range, empty windows included (value 0)."""
    inside = [e for e in events if start <= e.timestamp < end]
    if window is None:
        return [Bucket(start, end, aggregate(formula, inside))]
    size = WINDOW_SECONDS[window]
    grouped: dict[int, list[UsageEvent]] = {}
    for event in inside:
        grouped.setdefault(event.timestamp - (event.timestamp - start) % size, []).append(event)
    return [
        Bucket(b, min(b + size, end), aggregate(formula, grouped.get(b, [])))
        for b in range(start, end, size)
    ]


def summary_id(meter: str, customer: str, start: int, end: int) -> str:
    """Deterministic summary id, so pagination cursors stay valid across calls."""
    digest = hashlib.sha256(f"{meter}|{customer}|{start}|{end}".encode()).hexdigest()
    return "mtrusg_" + digest[:40]
